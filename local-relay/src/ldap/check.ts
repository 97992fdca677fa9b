import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { CheckLine } from '../cli/check.ts';
import { parseListen } from '../config/addresses.ts';
import type { RelayConfig } from '../config/schema.ts';
import { MessageFramer } from './framing.ts';
import { decodeEnvelope, encodeSimpleBind, OP } from './message.ts';

/**
 * `duo-relay check` for `[[ldap_server]]`: the certificate and key load and match, and each TCP
 * address can be bound; one already taken is told apart (an LDAP server answers an anonymous bind
 * there: the running relay?) from another program holding it.
 */
export async function checkLdapListeners(config: RelayConfig, timeoutMs: number): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  for (const [i, section] of config.ldap_server.entries()) {
    if (section.tls_cert_file && section.tls_key_file) {
      const name = `ldap_server[${i}] certificate`;
      try {
        createSecureContext({ cert: readFileSync(section.tls_cert_file), key: readFileSync(section.tls_key_file) });
        out.push({ ok: true, name, detail: `${section.tls_cert_file} and its key load` });
      } catch (error) {
        out.push({ ok: false, name, detail: `${section.tls_cert_file}: ${(error as Error).message}` });
      }
    }
    for (const [listen, tls] of [
      ...section.listen.map((l) => [l, false] as const),
      ...section.ldaps_listen.map((l) => [l, true] as const),
    ]) {
      const name = `tcp ${listen}${tls ? ' (ldaps)' : ''}`;
      const at = parseListen(listen)!;
      const bound = await tryListen(at.host, at.port);
      if (bound === 'ok') out.push({ ok: true, name, detail: 'bindable' });
      else if (bound !== 'EADDRINUSE') out.push({ ok: false, name, detail: `cannot bind: ${bound}` });
      else if (!tls && (await answersLdap(at.host, at.port, timeoutMs))) {
        out.push({ ok: true, name, detail: 'in use by an LDAP server that answers a bind (the running relay?)' });
      } else {
        out.push({
          ok: false,
          name,
          detail: 'address in use (EADDRINUSE): stop that program or change the listen address',
        });
      }
    }
  }
  return out;
}

function tryListen(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('ok')));
  });
}

function answersLdap(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const socket = connect({ host: target, port });
    const framer = new MessageFramer(64 * 1024);
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), Math.min(timeoutMs, 2_000));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(encodeSimpleBind(1, new Uint8Array(0), new Uint8Array(0))));
    socket.on('data', (chunk: Buffer) => {
      const frames = framer.push(chunk);
      if (!frames.ok) return done(false);
      const frame = frames.value[0];
      if (!frame) return;
      const env = decodeEnvelope(frame);
      done(env.ok && env.value.opTag === OP.bindResponse);
    });
  });
}
