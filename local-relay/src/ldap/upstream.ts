import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { LdapEndpoint } from '../primary/ldap-config.ts';
import { type ConnectionSettings, tlsOptions } from '../primary/ldap-connection.ts';
import { MessageFramer } from './framing.ts';
import { decodeEnvelope, decodeResultCode, encodeExtendedRequest, OP, RESULT, STARTTLS_OID } from './message.ts';

/**
 * The relay's own connection to the directory for one application connection, over the
 * `[primary]` transport. Raw bytes, not an LDAP client library: what the application sends is
 * forwarded as it arrived. Hosts are tried in order; the next only when one cannot be reached.
 */

export type UpstreamSocket = Socket | TLSSocket;

export async function openUpstream(
  endpoints: ReadonlyArray<LdapEndpoint>,
  settings: ConnectionSettings,
): Promise<{ socket: UpstreamSocket; endpoint: LdapEndpoint } | { error: string }> {
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    try {
      return { socket: await openOne(endpoint, settings), endpoint };
    } catch (error) {
      failures.push(`${endpoint.host}:${endpoint.port}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { error: failures.join('; ') };
}

async function openOne(endpoint: LdapEndpoint, settings: ConnectionSettings): Promise<UpstreamSocket> {
  const deadline = settings.connectTimeoutMs + (settings.transport === 'starttls' ? settings.timeoutMs : 0);
  const tls = { ...tlsOptions(endpoint.host, settings), port: endpoint.port };
  if (settings.transport === 'ldaps') {
    return connected(tlsConnect({ ...tls, host: endpoint.host }), 'secureConnect', deadline);
  }
  const plain = await connected(netConnect({ host: endpoint.host, port: endpoint.port }), 'connect', deadline);
  if (settings.transport === 'clear') return plain;
  try {
    await startTls(plain, settings.timeoutMs);
    return await connected(tlsConnect({ ...tls, socket: plain }), 'secureConnect', settings.connectTimeoutMs);
  } catch (error) {
    plain.destroy();
    throw error;
  }
}

function connected<S extends Socket>(socket: S, event: 'connect' | 'secureConnect', ms: number): Promise<S> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no connection within ${ms} ms`)), ms);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', fail);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** RFC 4511 4.14: the StartTLS request on a fresh connection; resolves once the server said yes. */
function startTls(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const framer = new MessageFramer(64 * 1024);
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error('StartTLS timed out')), ms);
    const onData = (chunk: Buffer) => {
      const frames = framer.push(chunk);
      if (!frames.ok) return done(new Error(`StartTLS answer malformed (${frames.error})`));
      const [frame] = frames.value;
      if (!frame) return;
      const env = decodeEnvelope(frame);
      if (!env.ok || env.value.opTag !== OP.extendedResponse) return done(new Error('StartTLS answer malformed'));
      const code = decodeResultCode(frame, env.value);
      if (!code.ok || code.value !== RESULT.success) {
        return done(new Error(`StartTLS refused (result ${code.ok ? code.value : code.error})`));
      }
      done();
    };
    socket.on('data', onData);
    socket.once('error', done);
    socket.write(encodeExtendedRequest(1, STARTTLS_OID));
  });
}
