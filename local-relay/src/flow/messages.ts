/**
 * Relay-side Reply-Message texts that src/contract/messages.ts does not hold (they never come from
 * a failmode decision). Word for word the Duo Authentication Proxy's.
 */
export const FLOW_REPLY = {
  noUsername: 'No username provided',
  badPassword: 'Missing or improperly-formatted password',
  primaryRejected: 'Primary credentials rejected',
} as const;

export const primaryErrorMessage = (detail: string): string => `Error performing primary authentication: ${detail}`;
