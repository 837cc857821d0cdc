/**
 * Every rate limit of the platform, in one table (README "Rate limits"). Each protects something an
 * anonymous or signed-in caller could otherwise make us do without bound: a signed Alipay call, a SOAP call
 * to the school's card system, a row that stays. `by` says whose budget a request spends: the caller's
 * address (http/client-ip.ts), the signed-in user, or the school the body names (`schoolId`). Operators override points/seconds per name with
 * RATE_LIMITS (`recharge-user=20/60`); RATE_LIMIT_SCALE multiplies them all (0: off).
 *
 * To limit a new route: add a line here and put `rateLimit(deps, 'the-name')` in front of its handler.
 */
export const RATE_LIMITS = {
  /** Anything under /api/v1 from one address: generous, a campus NATs thousands of phones behind a few IPs. */
  'api-ip': { by: 'ip', points: 1200, durationSeconds: 60 },
  /** Login: each one is a signed alipay.system.oauth.token call. */
  'session-ip': { by: 'ip', points: 120, durationSeconds: 60 },
  /** Everything one signed-in user does. */
  'api-user': { by: 'user', points: 300, durationSeconds: 60 },
  /** Binding: one GetPersonInfo SOAP call each. */
  'binding-user': { by: 'user', points: 10, durationSeconds: 60 },
  /** Sharing the Alipay mobile (terminal payments, seed 002 §1): two signed Alipay calls each. */
  'phone-user': { by: 'user', points: 10, durationSeconds: 60 },
  /**
   * Binding and roster lookups at one school, whoever asks: many accounts cannot guess one school's ID
   * numbers or student numbers faster than this (spent by the route, with the school from the body).
   */
  'binding-school': { by: 'school', points: 600, durationSeconds: 60 },
  /** Card detail: the live balance is one SOAP call. */
  'balance-user': { by: 'user', points: 60, durationSeconds: 60 },
  /** Statements: up to 20 GetPersonDetails calls each. */
  'statement-user': { by: 'user', points: 20, durationSeconds: 60 },
  /** Recharges: one alipay.trade.create each (and an order row). */
  'recharge-user': { by: 'user', points: 10, durationSeconds: 60 },
  /** Withholding sign strings and repayments: an agreement or trade row each. */
  'withholding-user': { by: 'user', points: 10, durationSeconds: 60 },
  /**
   * AntBuilder card management's calls to /crm/card (from the school's card-management server): a live card
   * balance (SOAP) or a dynamic code row each; a wrong token is counted too.
   */
  'crm-ip': { by: 'ip', points: 600, durationSeconds: 60 },
  /** Loss reports and unbinding: one SOAP call each. */
  'card-change-user': { by: 'user', points: 10, durationSeconds: 60 },
  /** Redeeming admin invitation codes: what a guesser would spend (80-bit codes, but still). */
  'invitation-user': { by: 'user', points: 10, durationSeconds: 600 },
  /** The ISV authorization callback: one alipay.open.auth.token.app call each. */
  'isv-callback-ip': { by: 'ip', points: 30, durationSeconds: 60 },
} as const satisfies Record<
  string,
  { by: 'ip' | 'user' | 'school'; points: number; durationSeconds: number }
>;

export type RateLimitName = keyof typeof RATE_LIMITS;
