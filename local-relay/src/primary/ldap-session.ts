import type { Client } from 'ldapts';
import type { LdapEndpoint } from './ldap-config.ts';
import { type ConnectionSettings, closeConnection, openConnection } from './ldap-connection.ts';

/**
 * The connections of one request (or one check). Closing the session closes every connection it
 * opened, including one whose connect completes afterwards, so an abort or a relay shutdown never
 * leaves a socket behind and never waits for a timeout.
 */
export class LdapSession {
  readonly #settings: ConnectionSettings;
  readonly #clients = new Set<Client>();
  readonly #closed: Promise<never>;
  #rejectClosed: (error: Error) => void = () => {};
  #isClosed = false;

  constructor(settings: ConnectionSettings) {
    this.#settings = settings;
    this.#closed = new Promise<never>((_, reject) => {
      this.#rejectClosed = reject;
    });
    // Nobody may be racing against it yet (or ever): closing is not an unhandled rejection.
    this.#closed.catch(() => {});
  }

  async open(endpoint: LdapEndpoint): Promise<Client> {
    if (this.#isClosed) throw new SessionClosedError();
    const client = await openConnection(endpoint, this.#settings);
    if (this.#isClosed) {
      await closeConnection(client);
      throw new SessionClosedError();
    }
    this.#clients.add(client);
    return client;
  }

  async release(client: Client): Promise<void> {
    this.#clients.delete(client);
    await closeConnection(client);
  }

  /** Ends `run` at once with `SessionClosedError` and closes every connection. Idempotent. */
  async close(): Promise<void> {
    this.#isClosed = true;
    this.#rejectClosed(new SessionClosedError());
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(clients.map(closeConnection));
  }

  /** Runs `work` until it settles, `signal` aborts or `close()` is called; then closes the session. */
  async run<T>(work: (session: LdapSession) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const onAbort = () => void this.close();
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const running = work(this);
    // After an abort the work still winds down and may reject: expected, not unhandled.
    running.catch(() => {});
    try {
      return await Promise.race([running, this.#closed]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.close();
    }
  }
}

export class SessionClosedError extends Error {
  constructor() {
    super('LDAP request aborted');
    this.name = 'SessionClosedError';
  }
}
