/** Help texts, one per command (`duo-relay <command> --help`). */
export const USAGE = {
  main: `Usage: duo-relay <command> [options]

Commands:
  start --config FILE        run the RADIUS relay
  keygen [--out FILE]        make the relay's Ed25519 key; prints the public key for the edge
  hash-password [--file F] USER
                             hash a password (from stdin, or prompted) for the users file

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
} as const;
