import fc from 'fast-check';

/**
 * One entry per mounted route (the suite fails for a route without one): how a request reaches it
 * (`auth`), and, optionally, a well-formed example of its inputs. The fuzzer sends the example with one
 * part spoiled, or hostile values in place of every part, so that a request gets past authentication and
 * into validation and the domain. A new route needs one line here; an example makes it fuzzed deeper.
 *
 * `fixture` holds ids of real rows (the signed-in user's binding, a recharge, a deduction…).
 */
export interface Fixture {
  schoolId: string;
  bindingId: string;
  rechargeId: string;
  cardNo: string;
  txnNo: string;
  /** A terminal of the school (its row id), and an order of it (the machine's number and ours). */
  terminalRef: string;
  outOrderNo: string;
  orderNo: string;
}

export type Auth =
  /** Nobody signs in. */
  | 'none'
  /** A mini-program session token (Bearer). */
  | 'session'
  /** The POS gateway's HMAC signature of the exact bytes sent. */
  | 'gateway'
  /** /metrics' bearer token. */
  | 'metrics'
  /** AntBuilder card management's `token` header (the school's membership program). */
  | 'crm'
  /** A vending machine's own HMAC client (same signature as the POS gateway's). */
  | 'terminal';

export interface FuzzEntry {
  auth: Auth;
  /** Path parameters, query and body that the route accepts, to be spoiled one part at a time. */
  example?: (fixture: Fixture) => {
    params?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
  };
  /** `form` for routes that take application/x-www-form-urlencoded (Alipay's notifications). */
  bodyType?: 'json' | 'form';
}

const now = () => new Date().toISOString();

export const FUZZ_CATALOG: Record<string, FuzzEntry> = {
  'GET /healthz': { auth: 'none' },
  'GET /readyz': { auth: 'none' },
  'GET /metrics': { auth: 'metrics' },
  'POST /notify/alipay': {
    auth: 'none',
    bodyType: 'form',
    example: () => ({
      body: {
        notify_type: 'trade_status_sync',
        notify_id: 'ac05099524730693a8b330c5ecf72da9786',
        out_trade_no: 'R202601011200001234567890123456',
        trade_status: 'TRADE_SUCCESS',
        total_amount: '12.30',
        sign_type: 'RSA2',
        sign: 'bm90IGEgc2lnbmF0dXJl',
      },
    }),
  },
  'POST /api/v1/session': { auth: 'none', example: () => ({ body: { authCode: 'auth-code-1234' } }) },
  'GET /api/v1/me': { auth: 'session' },
  'POST /api/v1/me/phone': { auth: 'session', example: () => ({ body: { authCode: 'auth-code-1234' } }) },
  'GET /api/v1/schools': { auth: 'session', example: () => ({ query: { q: '测试' } }) },
  'POST /api/v1/bindings': {
    auth: 'session',
    example: (f) => ({ body: { schoolId: f.schoolId, cardNo: f.cardNo, name: '张三', relation: 'SELF' } }),
  },
  'POST /api/v1/bindings/lookup': {
    auth: 'session',
    example: (f) => ({
      body: { schoolId: f.schoolId, name: '张三', idNumber: '11010519491231002X', relation: 'SELF' },
    }),
  },
  'GET /api/v1/bindings': { auth: 'session' },
  'PUT /api/v1/bindings/:id/balance-alert': {
    auth: 'session',
    example: (f) => ({ params: { id: f.bindingId }, body: { thresholdFen: 2000 } }),
  },
  'GET /api/v1/message-subscriptions': { auth: 'session' },
  'POST /api/v1/message-subscriptions': { auth: 'session', example: () => ({ body: { accepted: [] } }) },
  'GET /api/v1/bindings/:id/others': { auth: 'session', example: (f) => ({ params: { id: f.bindingId } }) },
  'POST /api/v1/bindings/:id/others/:otherId/approve': {
    auth: 'session',
    example: (f) => ({ params: { id: f.bindingId, otherId: crypto.randomUUID() } }),
  },
  'DELETE /api/v1/bindings/:id/others/:otherId': {
    auth: 'session',
    example: (f) => ({ params: { id: f.bindingId, otherId: crypto.randomUUID() } }),
  },
  'DELETE /api/v1/bindings/:id/loss': {
    auth: 'session',
    example: () => ({ params: { id: crypto.randomUUID() } }),
  },
  'GET /api/v1/bindings/:id': { auth: 'session', example: (f) => ({ params: { id: f.bindingId } }) },
  'DELETE /api/v1/bindings/:id': {
    auth: 'session',
    example: () => ({ params: { id: crypto.randomUUID() } }),
  },
  'POST /api/v1/bindings/:id/loss': {
    auth: 'session',
    example: () => ({ params: { id: crypto.randomUUID() } }),
  },
  'GET /api/v1/bindings/:id/statement': {
    auth: 'session',
    example: (f) => ({
      params: { id: f.bindingId },
      query: { from: new Date(Date.now() - 86_400_000).toISOString(), to: now(), page: '1' },
    }),
  },
  'POST /api/v1/recharges': {
    auth: 'session',
    // A lost card (the fixture's): every well-formed request is refused, so fuzzing makes no trades.
    example: (f) => ({ body: { bindingId: f.bindingId, amountFen: 1000 } }),
  },
  'GET /api/v1/recharges/:id': { auth: 'session', example: (f) => ({ params: { id: f.rechargeId } }) },
  'POST /api/v1/withholding/sign': {
    auth: 'session',
    example: (f) => ({ body: { bindingId: f.bindingId } }),
  },
  'PUT /api/v1/withholding/cards': {
    auth: 'session',
    example: (f) => ({
      body: { schoolId: f.schoolId, cards: [{ bindingId: f.bindingId, txnLimitFen: 1000 }] },
    }),
  },
  'GET /api/v1/withholding': { auth: 'session' },
  'DELETE /api/v1/withholding': { auth: 'session', example: (f) => ({ query: { schoolId: f.schoolId } }) },
  'GET /api/v1/debts': { auth: 'session' },
  'POST /api/v1/debts/repay': { auth: 'session', example: (f) => ({ body: { schoolId: f.schoolId } }) },
  'GET /api/v1/debts/repayments/:id': {
    auth: 'session',
    example: () => ({ params: { id: crypto.randomUUID() } }),
  },
  // Where Alipay sends a school's account after it authorized us (issue 10): a plain page, never a 5xx.
  'GET /isv/alipay/callback': {
    auth: 'none',
    example: () => ({
      query: { app_auth_code: 'P0123456789abcdef', state: 'a'.repeat(48), app_id: '2021000000000001' },
    }),
  },
  // School admins (the fuzzing user is an OWNER of the fixture school, so requests reach validation).
  'GET /api/v1/admin/schools': { auth: 'session' },
  'POST /api/v1/admin/invitations/redeem': {
    auth: 'session',
    example: () => ({ body: { code: 'ABCD2345EFGH' } }),
  },
  'GET /api/v1/admin/schools/:schoolId': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'GET /api/v1/admin/schools/:schoolId/settings': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'PUT /api/v1/admin/schools/:schoolId/settings': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, body: { rechargeMinFen: 100 } }),
  },
  'GET /api/v1/admin/schools/:schoolId/admins': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'PUT /api/v1/admin/schools/:schoolId/admins/:userId': {
    auth: 'session',
    example: (f) => ({
      params: { schoolId: f.schoolId, userId: crypto.randomUUID() },
      body: { role: 'STAFF' },
    }),
  },
  'DELETE /api/v1/admin/schools/:schoolId/admins/:userId': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, userId: crypto.randomUUID() } }),
  },
  'POST /api/v1/admin/schools/:schoolId/invitations': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, body: { role: 'STAFF' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/campus-code/exceptions': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, query: { kind: 'FAILED' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/campus-code/summary': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'GET /api/v1/admin/schools/:schoolId/dashboard': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'GET /api/v1/admin/schools/:schoolId/orders': {
    auth: 'session',
    example: (f) => ({
      params: { schoolId: f.schoolId },
      query: { kind: 'RECHARGE', cardNo: f.cardNo, status: 'CREATED', from: '2026-01-01', limit: '5' },
    }),
  },
  'GET /api/v1/admin/schools/:schoolId/orders/:kind/:id': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, kind: 'RECHARGE', id: f.rechargeId } }),
  },
  'GET /api/v1/admin/schools/:schoolId/inbox': {
    auth: 'session',
    example: (f) => ({
      params: { schoolId: f.schoolId },
      query: { kind: 'recharge.credit-failed', limit: '5' },
    }),
  },
  'POST /api/v1/admin/schools/:schoolId/inbox/:kind/:id/:action': {
    auth: 'session',
    // The fixture's recharge is not CREDIT_FAILED: refused with ACTION_NOT_ALLOWED, nothing changes.
    example: (f) => ({
      params: { schoolId: f.schoolId, kind: 'recharge.credit-failed', id: f.rechargeId, action: 'refund' },
      body: {},
    }),
  },
  'POST /api/v1/admin/schools/:schoolId/roster/imports': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, body: { markMissingAsLeft: false } }),
  },
  'GET /api/v1/admin/schools/:schoolId/roster/imports': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'GET /api/v1/admin/schools/:schoolId/roster/imports/:id': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, id: crypto.randomUUID() } }),
  },
  'GET /api/v1/bindings/:id/statement/:entryId': {
    auth: 'session',
    example: (f) => ({ params: { id: f.bindingId, entryId: 'card:2026010112000000001' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/reconciliation/days': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, query: { from: '2026-01-01', to: '2026-01-31' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, billDate: '2026-01-01' } }),
  },
  'POST /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate/rerun': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, billDate: '2026-01-01' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/reconciliation/findings': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, query: { status: 'OPEN', billDate: '2026-01-01' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate/export': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, billDate: '2026-01-01' } }),
  },
  'POST /api/v1/admin/schools/:schoolId/reconciliation/days/:billDate/export-link': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, billDate: '2026-01-01' } }),
  },
  'GET /exports/reconciliation/:token': {
    auth: 'none',
    example: () => ({ params: { token: 'eyJwIjoicmVjb25jaWxpYXRpb24uZXhwb3J0In0.bm90LWEtbWFj' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/audit': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, query: { page: '1' } }),
  },
  'POST /gateway/v1/deductions': {
    auth: 'gateway',
    // An unbound card: well-formed requests are DECLINED NOT_BOUND (stored, answered 200).
    example: (f) => ({
      body: {
        txnNo: `FZ${Date.now()}`,
        cardNo: f.cardNo,
        amountFen: 100,
        terminalId: 'POS-01',
        occurredAt: now(),
      },
    }),
  },
  'POST /gateway/v1/campus-code/payments': {
    auth: 'gateway',
    example: () => ({
      body: {
        payments: [
          {
            txnNo: `FZC${Date.now()}`,
            terminalId: 'POS-CC-01',
            finalData: Buffer.from('fuzz final data').toString('base64'),
            userData: Buffer.from('fuzz user data').toString('base64'),
            templateId: 4,
            amountFen: 100,
            scannedAt: now(),
          },
        ],
      },
    }),
  },
  'GET /gateway/v1/campus-code/payments/:txnNo': {
    auth: 'gateway',
    example: () => ({ params: { txnNo: `FZC${Date.now()}` } }),
  },
  'GET /api/v1/bindings/:id/campus-code': {
    auth: 'session',
    example: (f) => ({ params: { id: f.bindingId } }),
  },
  'POST /crm/card/openCardInfo': {
    auth: 'crm',
    example: () => ({
      body: {
        alipayUserId: '2088000000000001',
        templateId: 'T1',
        name: '张三',
        certNo: '11010519491231002X',
      },
    }),
  },
  'POST /crm/card/cardChange': {
    auth: 'crm',
    example: (f) => ({
      body: {
        type: 'ADD',
        templateId: 'T1',
        alipayUserId: '2088000000000001',
        bizCardNo: f.cardNo,
        alipayCardNo: '2026000000000001',
      },
    }),
  },
  'POST /crm/card/mdCodeChange': {
    auth: 'crm',
    example: () => ({
      body: {
        appId: '2021000000000001',
        templateId: 'T1',
        alipayUserId: '2088000000000001',
        expireTime: 120,
      },
    }),
  },
  'GET /gateway/v1/deductions/:txnNo': { auth: 'gateway', example: (f) => ({ params: { txnNo: f.txnNo } }) },
  'POST /gateway/v1/deductions/:txnNo/reversal': {
    auth: 'gateway',
    example: () => ({ params: { txnNo: `FZR${Date.now()}` }, body: {} }),
  },
  'GET /api/v1/admin/schools/:schoolId/terminals': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'POST /api/v1/admin/schools/:schoolId/terminals': {
    auth: 'session',
    example: (f) => ({
      params: { schoolId: f.schoolId },
      body: {
        terminalId: `FZ-${Date.now()}`,
        kind: 'VENDING',
        name: '模糊测试机',
        moneyMode: 'ROYALTY',
        royalty: { account: '2088000000000099', bps: 100, timing: 'ON_PAYMENT' },
      },
    }),
  },
  'GET /api/v1/admin/schools/:schoolId/terminals/:id': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, id: f.terminalRef } }),
  },
  'PUT /api/v1/admin/schools/:schoolId/terminals/:id': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, id: f.terminalRef }, body: { name: '模糊' } }),
  },
  'PUT /api/v1/admin/schools/:schoolId/terminals/:id/money-mode': {
    auth: 'session',
    example: (f) => ({
      params: { schoolId: f.schoolId, id: f.terminalRef },
      body: { moneyMode: 'RESTRICTED', sellerId: '2088000000000099' },
    }),
  },
  'PUT /api/v1/admin/schools/:schoolId/terminals/:id/status': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId, id: f.terminalRef }, body: { status: 'ACTIVE' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/terminal-orders': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, query: { status: 'PAID', limit: '10' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/terminal-orders/exceptions': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId }, query: { kind: 'NO_DISPENSE_REPORT' } }),
  },
  'GET /api/v1/admin/schools/:schoolId/terminal-orders/summary': {
    auth: 'session',
    example: (f) => ({ params: { schoolId: f.schoolId } }),
  },
  'GET /api/v1/terminal-orders/:orderNo': {
    auth: 'session',
    example: (f) => ({ params: { orderNo: f.orderNo } }),
  },
  'POST /api/v1/terminal-orders/:orderNo/pay': {
    auth: 'session',
    example: (f) => ({ params: { orderNo: f.orderNo } }),
  },
  'GET /api/v1/terminal-payments': { auth: 'session' },
  'POST /gateway/v1/terminal-orders': {
    auth: 'terminal',
    example: () => ({
      body: {
        terminalId: 'FZ-VM-01',
        outOrderNo: `FZT${Date.now()}`,
        items: [{ name: '可乐', quantity: 2, unitFen: 300 }],
        amountFen: 600,
      },
    }),
  },
  'GET /gateway/v1/terminal-orders/:outOrderNo': {
    auth: 'terminal',
    example: (f) => ({ params: { outOrderNo: f.outOrderNo } }),
  },
  'POST /gateway/v1/terminal-orders/:outOrderNo/dispensed': {
    auth: 'terminal',
    example: (f) => ({
      params: { outOrderNo: f.outOrderNo },
      body: { result: 'FAILED', failedItems: [{ index: 0, quantity: 1 }] },
    }),
  },
};

// ---- hostile values ---------------------------------------------------------------------------------

/** Strings people and attackers send: control characters, NUL, huge, unicode, injection-shaped, dates at the edges. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\uFFFF',
    '\uD800',
    '%00',
    '../../etc/passwd',
    // `raw:` values go into the path as they are, unencoded: broken escapes and invalid UTF-8.
    'raw:%ZZ',
    'raw:%E0%A4%A',
    'raw:%ED%A0%80',
    'raw:%00',
    "' or 1=1 --",
    '<script>alert(1)</script>',
    '__proto__',
    'constructor',
    '-1',
    '0',
    '1e309',
    '9007199254740993',
    '2147483648',
    'NaN',
    'Infinity',
    'true',
    'null',
    '-271821-04-20T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '-004714-11-24T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '1970-01-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '00000000-0000-0000-0000-000000000000',
    '0190a000-0000-7000-8000-000000000000',
    'x'.repeat(5000),
    '张'.repeat(300),
  ),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2147483648, -2147483649, 1e308, Number.MAX_SAFE_INTEGER + 2),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);
