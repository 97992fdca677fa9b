import type { Child } from 'hono/jsx';

/** The page frame: stylesheet, navigation and sign-out. No script anywhere. */
export function Layout(props: { title: string; actor?: string; signOut?: boolean; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · duo-edge`}</title>
        <link rel="stylesheet" href="/admin/console.css" />
      </head>
      <body>
        <header>
          <strong>duo-edge</strong>
          {props.actor ? (
            <nav>
              <a href="/admin/">Overview</a>
              <a href="/admin/decisions">Decisions</a>
            </nav>
          ) : null}
          {props.actor ? (
            <span class="who">
              {props.actor}
              {props.signOut ? (
                <form method="post" action="/admin/signout">
                  <button type="submit">Sign out</button>
                </form>
              ) : null}
            </span>
          ) : null}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function Notice(props: { kind: 'error' | 'info'; children?: Child }) {
  return (
    <p class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}

export function Section(props: { title: string; children?: Child }) {
  return (
    <section>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}
