import { importPrivateKeyPem, importPublicKey, type Key, sign, verify } from '@duo-edge/contract/ed25519';
import { toBase64Url, toHex, utf8 } from '@duo-edge/contract/encoding';
import { decisionMessage, HEADER, relayRequestMessage } from '@duo-edge/contract/signing';
import type { TestKeyPair } from './keys.ts';

export interface RelayRequestInput {
  site: string;
  key: TestKeyPair;
  method: 'GET' | 'POST';
  /** URL path as sent, e.g. `/v1/auth`. */
  path: string;
  /** A string is sent as is; anything else as JSON. Omit for GET. */
  body?: unknown;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Default: 16 random bytes, base64url. */
  nonce?: string;
}

export interface SignedRelayRequest {
  headers: Record<string, string>;
  /** The exact bytes that were signed; send these. */
  body: Uint8Array<ArrayBuffer> | undefined;
  nonce: string;
}

const keys = new Map<string, Promise<Key | null>>();

export const randomNonce = (): string => toBase64Url(crypto.getRandomValues(new Uint8Array(16)));

/** A fresh `login_id` for `/v1/auth`: a login of its own, which joins no other. */
export const newLoginId = (): string => toHex(crypto.getRandomValues(new Uint8Array(32)));

/** Builds the relay-auth headers (wire/signatures.ts) for one request, as a relay would. */
export async function signRelayRequest(input: RelayRequestInput): Promise<SignedRelayRequest> {
  let key = keys.get(input.key.privateKeyPem);
  if (!key) {
    key = importPrivateKeyPem(input.key.privateKeyPem);
    keys.set(input.key.privateKeyPem, key);
  }
  const privateKey = await key;
  if (!privateKey) throw new Error('relay-signer: bad private key');
  const body =
    input.body === undefined
      ? undefined
      : utf8(typeof input.body === 'string' ? input.body : JSON.stringify(input.body));
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = input.nonce ?? randomNonce();
  const message = await relayRequestMessage({
    method: input.method,
    path: input.path,
    site: input.site,
    timestamp,
    nonce,
    body: body ?? new Uint8Array(0),
  });
  return {
    headers: {
      [HEADER.site]: input.site,
      [HEADER.key]: input.key.publicKey,
      [HEADER.timestamp]: timestamp,
      [HEADER.nonce]: nonce,
      [HEADER.signature]: await sign(privateKey, message),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body,
    nonce,
  };
}

/** A ready `Request` for `fetch`/`exports.default.fetch`: `baseUrl` like `https://edge.test`. */
export async function signedRequest(
  baseUrl: string,
  input: RelayRequestInput,
): Promise<{ request: Request; nonce: string }> {
  const signed = await signRelayRequest(input);
  const request = new Request(new URL(input.path, baseUrl), {
    method: input.method,
    headers: signed.headers,
    ...(signed.body ? { body: signed.body } : {}),
  });
  return { request, nonce: signed.nonce };
}

/** What a relay checks on every 2xx answer: the edge signature over path, nonce and body. */
export async function verifyDecisionSignature(input: {
  edgePublicKey: string;
  path: string;
  nonce: string;
  body: Uint8Array<ArrayBuffer>;
  signature: string | null;
}): Promise<boolean> {
  const key = await importPublicKey(input.edgePublicKey);
  if (!key || !input.signature) return false;
  return verify(
    key,
    input.signature,
    await decisionMessage({ path: input.path, nonce: input.nonce, body: input.body }),
  );
}

export interface RelayAnswer {
  status: number;
  /** Parsed JSON (null when the body is not JSON). */
  json: unknown;
  bytes: Uint8Array<ArrayBuffer>;
  headers: Headers;
  nonce: string;
}

/**
 * A minimal relay for tests and benchmarks: signs each call as `site` with `key` and sends it
 * through `fetch` (workerd's `exports.default.fetch`, or global fetch to a running edge).
 */
export function relayClient(opts: {
  fetch: (req: Request) => Promise<Response>;
  baseUrl: string;
  site: string;
  key: TestKeyPair;
}) {
  async function call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extra: Partial<RelayRequestInput> = {},
  ): Promise<RelayAnswer> {
    const { request, nonce } = await signedRequest(opts.baseUrl, {
      site: opts.site,
      key: opts.key,
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...extra,
    });
    const res = await opts.fetch(request);
    const bytes = new Uint8Array(await res.arrayBuffer());
    let json: unknown = null;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      json = null;
    }
    return { status: res.status, json, bytes, headers: res.headers, nonce };
  }
  return {
    call,
    preauth: (body: unknown, extra?: Partial<RelayRequestInput>) => call('POST', '/v1/preauth', body, extra),
    auth: (body: unknown, extra?: Partial<RelayRequestInput>) => call('POST', '/v1/auth', body, extra),
    site: (extra?: Partial<RelayRequestInput>) => call('GET', '/v1/site', undefined, extra),
  };
}
