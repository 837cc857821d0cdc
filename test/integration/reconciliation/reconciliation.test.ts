import assert from 'node:assert/strict';
import type { SchoolRow } from '../../../server/src/db/repos/schools/schools.js';
import { beijingDate, reconcileDay } from '../../../server/src/domain/reconciliation/reconcile-day.js';
import { runReconcile } from '../../../scripts/reconcile/main.js';
import { adminOf } from '../../support/admins.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { waitForRecharge } from '../student/helpers.js';

/**
 * Reconciliation (issue 17) end to end: real Alipay sandbox bills (GBK CSV in a zip, through
 * bill.downloadurl.query on the school's app_auth_token), the card-system sandbox's records, the daily job,
 * the CLI and the admin API. All trades are made on one Beijing day (today), then the sandbox's clock moves
 * 34 hours on, past the 09:00 at which that day's bill exists.
 */
describe('reconciliation: Alipay bill ↔ platform ↔ card system', function () {
  this.timeout(300_000);
  let stack: Stack;
  let clean: SchoolRow;
  let billDate: string;

  /** A user of `school` with a bound card, as userWithCard does for the stack's own school. */
  async function payerAt(school: SchoolRow) {
    const user = await stack.createUser(100_000);
    const api = await user.login();
    const card = await stack.createCard({ schoolCode: school.code, balanceFen: 1_000 });
    const bound = await api.post('/api/v1/bindings', {
      schoolId: school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(bound.status, 201, bound.text);
    return { user, api, card, bindingId: bound.body.id as string };
  }

  /** A recharge paid in the sandbox's cashier; waits for CREDITED unless the notification is to be lost. */
  async function recharge(
    school: SchoolRow,
    amountFen: number,
    options: { loseNotification?: boolean } = {},
  ) {
    const payer = await payerAt(school);
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    assert.equal(created.status, 201, created.text);
    if (options.loseNotification)
      await stack.alipay.control.injectNotifyFault({
        action: 'drop',
        notifyType: 'trade_status_sync',
        times: 1,
      });
    const paid = await stack.alipay.control.payTrade({
      tradeNO: created.body.tradeNo,
      userId: payer.user.userId,
    });
    assert.equal(paid.resultCode, '9000');
    if (!options.loseNotification) await waitForRecharge(payer.api, created.body.id, 'CREDITED', 60_000);
    return { ...payer, outTradeNo: created.body.outTradeNo as string, orderId: created.body.id as string };
  }

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runReconcile(argv, {
      env: stack.app.env,
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    return { code, json: stdout ? JSON.parse(stdout.trim().split('\n').at(-1)!) : undefined, stderr };
  }

  before(async () => {
    stack = await startStack({
      env: {
        RECHARGE_CREDIT_RETRY_MS: '100,100,100,100,100',
        // The sweep would settle the lost notification on its own; here the reconciliation must.
        RECHARGE_SWEEP_AFTER_MS: '3600000',
        RECONCILE_AUTO: 'true',
        RECONCILE_EVERY_MS: '300',
        RECONCILE_RETRY_MS: '200',
        RECONCILE_READY_HOUR: '0',
      },
    });
    clean = await stack.addSchool({ name: '对账示范大学' });
  });
  after(() => stack?.stop());

  // One day's trades for both schools, made before the sandbox's clock moves.
  let a: Awaited<ReturnType<typeof recharge>>;
  let b: typeof a;
  let c: typeof a;
  let e: typeof a;
  let lost: typeof a;

  it('makes the day: recharges at a clean school and at one whose books will be spoiled', async () => {
    billDate = beijingDate(new Date());
    await recharge(clean, 5_000);
    await recharge(clean, 1_230);
    a = await recharge(stack.school, 1_000);
    b = await recharge(stack.school, 2_000);
    c = await recharge(stack.school, 3_000);
    e = await recharge(stack.school, 4_000);
    lost = await recharge(stack.school, 500, { loseNotification: true });
    assert.equal((await lost.api.get(`/api/v1/recharges/${lost.orderId}`)).body.status, 'CREATED');
  });

  it('waits while the bill is not ready, and the daily job tries again until it is', async () => {
    const early = await reconcileDay(stack.app.deps, clean, billDate);
    assert.equal(early.status, 'WAITING_FOR_BILL');
    // 34 hours on at Alipay: the day's bill now exists (from 09:00 the next day).
    await stack.alipay.control.advanceClock({ days: 1, hours: 10 });
    const { rows } = await stack.app.deps.pool.query(
      `select status, balanced, attempts, bill_rows, totals from reconciliation_days where school_id = $1 and bill_date = $2`,
      [clean.id, billDate],
    );
    assert.ok(rows.length === 1);
    const day = await eventually(
      async () => {
        const r = await stack.app.deps.pool.query(
          `select status, balanced, attempts, bill_rows, totals from reconciliation_days where school_id = $1 and bill_date = $2`,
          [clean.id, billDate],
        );
        return r.rows[0]?.status === 'MATCHED' ? r.rows[0] : undefined;
      },
      { timeoutMs: 90_000, message: 'the job reconciled the day once its bill existed' },
    );
    assert.ok(day.attempts >= 2, 'tried before and after the bill existed');
    assert.equal(day.bill_rows, 2);
    assert.equal(day.balanced, true, 'a clean day balances');
    const recharges = day.totals.kinds.find((k: { kind: string }) => k.kind === 'RECHARGE');
    assert.deepEqual(
      [recharges.oursFen, recharges.alipayFen, recharges.vendorFen, recharges.differenceFen],
      [6_230, 6_230, 6_230, 0],
    );
    // Alipay's standard 0.6% fee as charged in the bill (30 + 7 fen), negative.
    assert.equal(recharges.feeFen, -37);
  });

  it('keeps the GBK text of the bill intact (the school name in the trade subject)', async () => {
    const { rows } = await stack.app.deps.pool.query(
      'select subject from bill_rows where school_id = $1 and bill_date = $2',
      [clean.id, billDate],
    );
    assert.deepEqual(
      rows.map((r) => r.subject),
      ['对账示范大学 校园卡充值', '对账示范大学 校园卡充值'],
    );
  });

  it('turns each corruption into a finding with its action, and a rerun adds none', async () => {
    const sellerId = stack.school.alipaySellerId!;
    await stack.alipay.control.corruptBill({ sellerId, billDate, kind: 'DROP', outTradeNo: c.outTradeNo });
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'AMOUNT',
      outTradeNo: e.outTradeNo,
      amountFen: 4_100,
    });
    await stack.alipay.control.corruptBill({ sellerId, billDate, kind: 'STRANGER', amountFen: 777 });
    await stack.cardsys.control.tamperCredit(stack.school.code, a.outTradeNo, 'drop');
    await stack.cardsys.control.tamperCredit(stack.school.code, b.outTradeNo, 'double');

    const first = await cli('--school', stack.school.code, '--date', billDate);
    assert.equal(first.code, 2, first.stderr);
    assert.equal(first.json.balanced, false);
    const byKind = new Map<string, { outTradeNo: string; action: string; repairs: string[] }>(
      first.json.findingList.map((f: { kind: string }) => [f.kind, f]),
    );
    const expected: Array<[string, string, string]> = [
      ['NOT_CREDITED', a.outTradeNo, 'RECREDIT'],
      ['CREDITED_TWICE', b.outTradeNo, 'ESCALATE'],
      ['MISSING_AT_ALIPAY', c.outTradeNo, 'INVESTIGATE'],
      ['AMOUNT_DIFFERS', e.outTradeNo, 'INVESTIGATE'],
      ['PAID_NOT_RECORDED', lost.outTradeNo, 'APPLY_PAYMENT'],
    ];
    for (const [kind, outTradeNo, action] of expected) {
      assert.equal(byKind.get(kind)?.outTradeNo, outTradeNo, kind);
      assert.equal(byKind.get(kind)?.action, action, kind);
    }
    assert.equal(byKind.get('UNKNOWN_TRADE')?.action, 'INVESTIGATE');
    assert.equal(first.json.findingList.length, 6);
    assert.match(first.stderr, /NOT BALANCED/);

    const again = await cli('--school', stack.school.code, '--date', billDate);
    assert.equal(again.json.findingList.length, 6, 'a rerun of the day duplicates nothing');
    assert.equal(
      again.json.findingList
        .map((f: { id: string }) => f.id)
        .sort()
        .join(),
      first.json.findingList
        .map((f: { id: string }) => f.id)
        .sort()
        .join(),
    );
  });

  it('lets staff repair each finding once from the admin area, and the day turns balanced', async () => {
    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
    const base = `/api/v1/admin/schools/${stack.school.id}/reconciliation`;

    const calendar = await viewer.http.get(`${base}/days?from=${billDate}&to=${billDate}`);
    assert.equal(calendar.status, 200, calendar.text);
    assert.deepEqual(
      [calendar.body.days[0].billDate, calendar.body.days[0].balanced, calendar.body.days[0].openFindings],
      [billDate, false, 6],
    );
    const day = await viewer.http.get(`${base}/days/${billDate}`);
    assert.equal(day.status, 200, day.text);
    const find = (kind: string) => day.body.findingList.find((f: { kind: string }) => f.kind === kind);
    assert.deepEqual(find('NOT_CREDITED').repairs, ['re-credit', 'mark-handled']);
    assert.deepEqual(find('PAID_NOT_RECORDED').repairs, ['apply-payment', 'mark-handled']);
    assert.deepEqual(find('UNKNOWN_TRADE').repairs, ['mark-handled']);

    const forbidden = await viewer.http.post(`${base}/findings/${find('NOT_CREDITED').id}/re-credit`, {});
    assert.equal(forbidden.status, 403);
    const wrong = await staff.http.post(`${base}/findings/${find('UNKNOWN_TRADE').id}/re-credit`, {});
    assert.equal(wrong.status, 409);
    const noReason = await staff.http.post(`${base}/findings/${find('UNKNOWN_TRADE').id}/mark-handled`, {});
    assert.equal(noReason.status, 400);
    assert.equal(noReason.body.error.field, 'body.reason');

    // Re-credit: the vendor credits the same flow number again, once, however often it is tapped.
    const recredit = await staff.http.post(`${base}/findings/${find('NOT_CREDITED').id}/re-credit`, {});
    assert.equal(recredit.status, 200, recredit.text);
    assert.deepEqual([recredit.body.changed, recredit.body.finding.resolution], [true, 'RECREDITED']);
    const twice = await staff.http.post(`${base}/findings/${find('NOT_CREDITED').id}/re-credit`, {});
    assert.equal(twice.body.changed, false);
    const credits = (await stack.cardsys.control.getRecords(stack.school.code, a.card.cardNo)).filter(
      (r) => r.type === 'RECHARGE' && r.refNo === a.outTradeNo,
    );
    assert.equal(credits.length, 1);

    // The lost notification, applied through the sweep's path: the order is paid and then credited.
    const applied = await staff.http.post(
      `${base}/findings/${find('PAID_NOT_RECORDED').id}/apply-payment`,
      {},
    );
    assert.equal(applied.status, 200, applied.text);
    assert.equal(applied.body.finding.resolution, 'APPLIED');
    await waitForRecharge(lost.api, lost.orderId, 'CREDITED', 60_000);

    for (const kind of ['CREDITED_TWICE', 'MISSING_AT_ALIPAY', 'AMOUNT_DIFFERS', 'UNKNOWN_TRADE']) {
      const handled = await staff.http.post(`${base}/findings/${find(kind).id}/mark-handled`, {
        reason: `查明: ${kind}`,
      });
      assert.equal(handled.status, 200, handled.text);
      assert.equal(handled.body.finding.resolution, 'HANDLED');
    }

    const after = await viewer.http.get(`${base}/days/${billDate}`);
    assert.deepEqual([after.body.balanced, after.body.openFindings], [true, 0]);
    const audit = await stack.app.deps.pool.query(
      `select action from audit_log where school_id = $1 and action like 'reconciliation.%' order by id`,
      [stack.school.id],
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      [
        'reconciliation.re-credit',
        'reconciliation.apply-payment',
        'reconciliation.mark-handled',
        'reconciliation.mark-handled',
        'reconciliation.mark-handled',
        'reconciliation.mark-handled',
      ],
    );

    // A rerun after the repairs stays balanced and adds nothing.
    const rerun = await cli('--school', stack.school.code, '--date', billDate);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual([rerun.json.balanced, rerun.json.findingList.length], [true, 6]);
  });

  it('does not show one school’s reconciliation to another school’s admins', async () => {
    const other = await adminOf(stack, clean.id, 'OWNER');
    const res = await other.http.get(
      `/api/v1/admin/schools/${stack.school.id}/reconciliation/days/${billDate}`,
    );
    assert.equal(res.status, 403);
  });
});
