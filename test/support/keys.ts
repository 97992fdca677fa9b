/**
 * Fixed Ed25519 key pairs for tests, the local stack and benchmarks (made once with
 * src/contract/ed25519.ts generateKeyPair). Test-only: never use these outside loopback.
 */
export interface TestKeyPair {
  privateKeyPem: string;
  /** base64url of the 32 raw public-key bytes: the form sites config and x-duo-edge-key use. */
  publicKey: string;
}

/** The edge's decision-signing key (EDGE_SIGNING_KEY); relays pin its public half. */
export const EDGE_KEY: TestKeyPair = {
  privateKeyPem:
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIN9pre/wfr6+8aaxJy5n0Tut8u15Ci/N1DszpZJhNJ/e\n-----END PRIVATE KEY-----\n',
  publicKey: '1qqkDF2RF7alHF-OSMP9hJnANsTQD3XAwBnfbD856jA',
};

/** The active relay key of site-a. */
export const RELAY_A_KEY: TestKeyPair = {
  privateKeyPem:
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAr6RSrcsDzPFx4kJxjM3mYeSbP/ZagUEZA71+8Q0RiW\n-----END PRIVATE KEY-----\n',
  publicKey: 'ZAySTQkVI1FMqAAJOg7CzXTxgKQcHtRgSq9FAB8goGk',
};

/** Listed for site-a but marked revoked. */
export const RELAY_A_REVOKED_KEY: TestKeyPair = {
  privateKeyPem:
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEILlq+8ia+MsKlxfa84Sx9NgOaWm01RmbZp4Pi1bMQT/Y\n-----END PRIVATE KEY-----\n',
  publicKey: 'PLtsU4PGb94MyE05Ivms6E8PurBIk819AKZYipnCynY',
};

/** The relay key of site-b. */
export const RELAY_B_KEY: TestKeyPair = {
  privateKeyPem:
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINY818SZSSiz0trKH3yiIo/k7Hy5N4reKzrT87vkzILk\n-----END PRIVATE KEY-----\n',
  publicKey: 'lZYMH5t2MHt5H1IBZRw2L89LYl_G2TXqdY1BWZ90fTw',
};

/** The relay key of site-c (tight push limits). */
export const RELAY_C_KEY: TestKeyPair = {
  privateKeyPem:
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINkw1tnBE/jygi9tBKeelazYarYY7TVbRCAv7KpScEju\n-----END PRIVATE KEY-----\n',
  publicKey: 'PDWFD8I22UWQqbYLCZ_F-OxTCH-8dPmCxCgh5sy_w6E',
};

/** Listed for no site. */
export const STRANGER_KEY: TestKeyPair = {
  privateKeyPem:
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJsGDhZPQdwJIfZcnS0cIRYDD2o6B6+kGjsNq4smLmzx\n-----END PRIVATE KEY-----\n',
  publicKey: 'aYXCh7UN5XH6-MxoitBV42y5db_U9A3ufjE5woZC5i8',
};
