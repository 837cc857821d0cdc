/**
 * Stable error codes of every HTTP surface (DESIGN §6). Clients switch on `code`; never rename one.
 * `status` is the HTTP status the BFF answers with.
 */
export const ERRORS = {
  // generic
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  NOT_FOUND: { status: 404, message: 'No such resource' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this resource' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable' },
  // auth
  UNAUTHENTICATED: { status: 401, message: 'Sign in first' },
  SESSION_EXPIRED: { status: 401, message: 'The session has expired' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  GATEWAY_AUTH_FAILED: { status: 401, message: 'Gateway signature, timestamp or nonce rejected' },
  ALIPAY_AUTH_FAILED: { status: 401, message: 'Alipay did not accept the auth code' },
  // schools and cards
  SCHOOL_NOT_FOUND: { status: 404, message: 'No such school' },
  SCHOOL_DISABLED: { status: 409, message: 'The school is not active' },
  SCHOOL_SUSPENDED: { status: 409, message: "The school's service is suspended: no new payments" },
  CARD_NOT_FOUND: { status: 404, message: 'No such campus card' },
  CARD_NAME_MISMATCH: { status: 422, message: 'The holder name does not match the card' },
  CARD_NOT_NORMAL: { status: 409, message: 'The card is lost or frozen' },
  BINDING_NOT_FOUND: { status: 404, message: 'No such binding' },
  BINDING_EXISTS: { status: 409, message: 'You have already bound this card' },
  BINDING_NOT_ACTIVE: { status: 409, message: 'The binding is not active' },
  IDENTITY_NOT_VERIFIED: {
    status: 422,
    message: "The proof of identity does not match the school's records",
  },
  HOLDER_EXISTS: { status: 409, message: 'The card holder has already bound this card as their own' },
  BINDING_PENDING_APPROVAL: { status: 403, message: 'The card holder has not approved this binding yet' },
  NOT_CARD_HOLDER: { status: 403, message: 'Only the card holder can do this' },
  BINDING_MATCH_EXPIRED: { status: 410, message: 'The card match has expired; look the card up again' },
  UNLOSS_NOT_SUPPORTED: { status: 409, message: 'The card system does not offer cancelling a loss online' },
  // recharge
  RECHARGE_NOT_FOUND: { status: 404, message: 'No such recharge order' },
  AMOUNT_OUT_OF_RANGE: { status: 422, message: 'The amount is outside the allowed range' },
  // withholding and deductions
  AGREEMENT_NOT_FOUND: { status: 404, message: 'No withholding agreement' },
  AGREEMENT_EXISTS: { status: 409, message: 'A withholding agreement is already active' },
  CARD_PAID_BY_OTHER: { status: 409, message: "Another Alipay user already pays this card's swipes" },
  WITHHOLDING_DISABLED: { status: 409, message: 'Withholding is switched off for this school' },
  HAS_ARREARS: { status: 409, message: 'There are unpaid withholdings to repay first' },
  NO_DEBTS: { status: 409, message: 'Nothing is owed' },
  DEDUCTION_NOT_FOUND: { status: 404, message: 'No such deduction' },
  TXN_CONFLICT: { status: 409, message: 'This txnNo was already used with a different card or amount' },
  // campus code
  CAMPUS_CODE_PAYMENT_NOT_FOUND: { status: 404, message: 'No such campus-code payment' },
  CAMPUS_CODE_NOT_AVAILABLE: { status: 409, message: 'The school has not set up the Alipay campus code' },
  // terminal orders (DESIGN §7.6)
  TERMINAL_NOT_FOUND: { status: 404, message: 'No such terminal' },
  TERMINAL_EXISTS: { status: 409, message: 'A terminal with this terminal id exists at the school' },
  TERMINAL_DISABLED: { status: 409, message: 'The terminal is disabled' },
  TERMINAL_MISMATCH: { status: 403, message: 'This client signs for another terminal, or for none' },
  ORDER_CONFLICT: {
    status: 409,
    message: 'This outOrderNo was already used with different items or amount',
  },
  TERMINAL_ORDER_NOT_FOUND: { status: 404, message: 'No such terminal order' },
  ORDER_NOT_PAYABLE: { status: 409, message: 'The order is already paid, or closed' },
  ORDER_NOT_PAID: { status: 409, message: 'The order is not paid' },
  DISPENSE_CONFLICT: { status: 409, message: 'A different dispense report was already received' },
  PHONE_REQUIRED: {
    status: 403,
    message: 'This school asks payers it does not know to share their Alipay mobile first',
  },
  PHONE_NOT_SHARED: { status: 422, message: 'Alipay did not share a mobile number for this account' },
  // school onboarding and admins (DESIGN §7.0)
  SCHOOL_EXISTS: { status: 409, message: 'A school with this code exists' },
  SCHOOL_NOT_READY: {
    status: 409,
    message: "The school's Alipay authorization or card system is missing or not working",
  },
  AUTHORIZATION_LINK_INVALID: { status: 400, message: 'This authorization link is not ours or is damaged' },
  AUTHORIZATION_LINK_USED: { status: 409, message: 'This authorization link was already used' },
  AUTHORIZATION_LINK_EXPIRED: { status: 409, message: 'This authorization link has expired' },
  INVITATION_NOT_FOUND: { status: 404, message: 'No such invitation code' },
  INVITATION_USED: { status: 409, message: 'This invitation code was already used' },
  INVITATION_EXPIRED: { status: 409, message: 'This invitation code has expired' },
  ALREADY_ADMIN: { status: 409, message: 'You are already an admin of this school' },
  ADMIN_NOT_FOUND: { status: 404, message: 'No such admin at this school' },
  LAST_OWNER: { status: 409, message: 'A school must keep at least one owner' },
  // reconciliation
  RECONCILIATION_DAY_NOT_FOUND: { status: 404, message: 'This day has not been reconciled' },
  RECONCILIATION_RUNNING: { status: 409, message: 'This day is being reconciled right now' },
  RECONCILIATION_EXPORT_LINK_EXPIRED: {
    status: 410,
    message: 'This download link has expired or is not valid; get a new one in the mini-program',
  },
  FINDING_NOT_FOUND: { status: 404, message: 'No such reconciliation finding' },
  FINDING_ACTION_NOT_APPLICABLE: { status: 409, message: 'This action does not apply to this finding' },
  // admin operations (issue 13)
  ORDER_NOT_FOUND: { status: 404, message: 'No such order at this school' },
  INBOX_ITEM_NOT_FOUND: { status: 404, message: 'No such item in the exceptions inbox' },
  ACTION_NOT_ALLOWED: { status: 409, message: 'This action does not apply to the item in its current state' },
  RECHARGE_ALREADY_CREDITED: {
    status: 409,
    message: 'The card system has credited this recharge: it cannot be refunded from here',
  },
  REFUND_IN_PROGRESS: { status: 409, message: 'A refund of this order is under way' },
  DEBT_IN_REPAYMENT: { status: 409, message: 'The payer is repaying this debt right now' },
  ROSTER_FILE_INVALID: { status: 422, message: 'The roster file cannot be imported' },
  ROSTER_IMPORT_NOT_FOUND: { status: 404, message: 'No such roster import' },
  // membership card (AntBuilder card management, DESIGN §6.4)
  CRM_AUTH_FAILED: { status: 401, message: 'The CRM token is missing or wrong' },
  MEMBER_NOT_FOUND: {
    status: 404,
    message: "Only the school's students and staff can get this card: no campus card matches these details",
  },
  MEMBERSHIP_CARD_NOT_FOUND: { status: 404, message: 'No such membership card for this Alipay user' },
  MEMBERSHIP_CARD_TAKEN: {
    status: 409,
    message: "This campus card is already in another Alipay account's card wallet",
  },
  // outside systems
  CARD_SYSTEM_UNAVAILABLE: { status: 503, message: 'The campus card system is not answering' },
  CARD_SYSTEM_REJECTED: { status: 502, message: 'The campus card system refused the request' },
  ALIPAY_UNAVAILABLE: { status: 503, message: 'Alipay is not answering' },
  ALIPAY_REJECTED: { status: 502, message: 'Alipay refused the request' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; details?: unknown };
  requestId?: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, value);
}
