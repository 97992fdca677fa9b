/** Help texts, one per command (`duo-relay <command> --help`). */
export const USAGE = {
  main: `Usage: duo-relay <command> [options]

Commands:
  start --config FILE        run the RADIUS relay
  keygen [--out FILE]        make the relay's Ed25519 key; prints the public key for the edge
  hash-password [--file F] USER
                             hash a password (from stdin, or prompted) for the users file
  check --config FILE        test config, edge, keys, clock, Duo, UDP ports and primary
  import-authproxy FILE      convert a Duo Authentication Proxy authproxy.cfg
  test-auth USER [PASSWORD]  log in like a NAS would (RADIUS with Message-Authenticator)

Options:
  --version                  print the version
  --help                     show help (also after a command)`,
  start: `Usage: duo-relay start --config FILE

Runs the relay with the given relay.toml. SIGTERM/SIGINT stop it gracefully (in-flight logins
finish, up to relay.shutdown_grace_ms); SIGHUP re-reads the config (a bad config is logged and the
running one kept). Exit status 78 when the config is invalid.`,
  keygen: `Usage: duo-relay keygen [--out FILE] [--force]

Writes a new Ed25519 private key (PKCS#8 PEM, mode 0600) to FILE (default relay.key) and prints
the public key (base64url) to register for this relay's site at the edge. Refuses to overwrite an
existing file unless --force is given.`,
  hashPassword: `Usage: duo-relay hash-password [--file USERS_FILE] USER

Reads the password from stdin (first line) or, on a terminal, prompts for it twice without echo.
With --file, adds or replaces USER's line in USERS_FILE (created with mode 0600); without it,
prints the line to stdout.`,
  check: `Usage: duo-relay check --config FILE

The connectivity tool: checks, one line each, that the config is valid, each edge URL answers
GET /v1/health, the edge accepts this relay's key (signed GET /v1/site) and signs with a key in
edge.public_keys, which failmode holds while the edge is unreachable (and why), whether the
timeouts outlast the edge's deadlines, the clock is within 60 s of the edge's, the edge reaches Duo, each UDP listen
address can be bound (or is held by this relay, answering Status-Server), and the primary is
reachable (LDAP service-account bind, upstream RADIUS Status-Server). Nothing secret is printed.

Exit status: 0 when every check passed, 1 otherwise.`,
  importAuthproxy: `Usage: duo-relay import-authproxy authproxy.cfg [--out relay.toml] [--site-out site.json]
                           [--site NAME] [--edge-url URL] [--edge-public-key KEY]
                           [--relay-public-key KEY] [--force]

Converts a Duo Authentication Proxy config: radius_server_auto/challenge/concat/duo_only sections
become [[server]] sections (radius_ip_N/radius_secret_N → clients, exempt_username_N, factors,
failmode, concat options), [ad_client] an LDAP primary, [radius_client] an upstream RADIUS primary.
ikey/skey/api_host, failmode, factors and exempt users go to the site entry for the edge's
SITES_CONFIG (--site-out, mode 0600; the skey is never printed). Both files are written with mode
0600 and existing files are kept unless --force. relay.toml is checked with the relay's loader.
Every option that could not be carried over is listed with the reason; placeholders (edge URL and
key, protected secrets as env references) are listed under "Needs you".

Exit status: 0 when relay.toml loads, 1 otherwise.`,
  testAuth: `Usage: duo-relay test-auth USER [PASSWORD] [--server HOST:PORT] [--secret S]
                           [--factor F] [--timeout SECONDS]

Sends an Access-Request for USER the way a NAS does (User-Password hidden, NAS-IP-Address,
NAS-Identifier, Message-Authenticator first) and prints the reply and its Reply-Message. The reply
counts only if its Response Authenticator and Message-Authenticator verify. An Access-Challenge
(e.g. "Enter passcode:") is answered from the terminal, or from the next line of stdin.
Without PASSWORD it is asked for without echo (or read from the first line of stdin).

  --server   the relay (default 127.0.0.1:1812, the local stack)
  --secret   the RADIUS shared secret (default demo-radius-secret, the local stack's)
  --factor   append ",F" to the password: push, phone, sms or a passcode (concat)
  --timeout  seconds to wait for each reply (default 75: a push waits for a person)

Exit status: 0 Access-Accept, 1 Access-Reject, 2 no authentic reply or challenge not answered.`,
} as const;
