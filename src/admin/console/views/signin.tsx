import { Layout, Notice } from './layout.tsx';

export function SignInPage(props: { error?: string }) {
  return (
    <Layout title="Sign in">
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form method="post" action="/admin/signin" class="signin">
        <label>
          Admin token
          <input type="password" name="token" autocomplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
