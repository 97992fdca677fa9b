/** Counters of requests dropped without an answer, each named by its reason (the metrics label). */
export const DROP_COUNTERS = [
  'dropped_stopping',
  'unknown_client',
  'malformed',
  'unsupported_code',
  'missing_message_authenticator',
  'proxy_state_without_message_authenticator',
  'bad_message_authenticator',
  'eap_without_message_authenticator',
  'duplicate_attribute',
  'status_server_rate_limited',
  'primary_busy',
] as const;

/** Every counter the packet layer exposes, so dashboards see zeros rather than gaps. */
export const COUNTER_NAMES = [
  'packets_received',
  ...DROP_COUNTERS,
  'status_server',
  'access_requests',
  'duplicates_in_flight',
  'duplicates_replayed',
  'accepts',
  'rejects',
  'challenges',
  'flow_errors',
  'encode_errors',
  'send_errors',
  'internal_errors',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

/**
 * Relay-wide only: counted before a packet is known to come from a client (so from a section and
 * its site), or, for internal errors, not always then. Every other counter is also kept per site.
 */
export const RELAY_WIDE_COUNTERS = [
  'packets_received',
  'dropped_stopping',
  'unknown_client',
  'send_errors',
  'internal_errors',
] as const;

export function newCounters(): Record<CounterName, number> {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Record<CounterName, number>;
}
