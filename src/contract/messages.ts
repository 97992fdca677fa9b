/**
 * Reply-Message texts, word for word the Duo Authentication Proxy's, so NAS-side scripts and
 * helpdesk runbooks written for the proxy keep working.
 */
export const REPLY = {
  failSafeAllowed: 'Failmode Safe - Allowed Duo login on preauth failure',
  failSecureDenied: 'Failmode Secure - Denied Duo login on preauth failure',
  authFailure: 'Denied Duo login on auth failure',
  authTimeout: 'Denied Duo login due to timeout',
  exempt: 'User exempted from 2FA',
  /** Not an authproxy text: the proxy has no override. */
  override: 'Primary-only override - Allowed login without Duo',
  noFactors: 'User has no Duo factors usable with this configuration',
  enterPasscode: 'Enter passcode:',
  unknownChallenge: 'Unknown Challenge',
  enrollAgain: 'Please complete the enrollment process and login again',
} as const;

export type ReplyText = (typeof REPLY)[keyof typeof REPLY];
