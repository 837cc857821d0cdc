import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { SchoolRow } from '../../../server/src/db/repos/schools/schools.js';
import {
  EXPORT_LINK_TTL_MS,
  openExportLink,
} from '../../../server/src/domain/reconciliation/export-links.js';
import { beijingDate, reconcileDay } from '../../../server/src/domain/reconciliation/reconcile-day.js';
import { newOrderNo } from '../../../server/src/lib/ids.js';
import { runReconcile } from '../../../scripts/reconcile/main.js';
import { adminOf } from '../../support/admins.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { creditFailedRecharge } from '../admin/helpers.js';
import { waitForRecharge } from '../student/helpers.js';
import { chargesOf, gatewayFor, sale, signedPayer, waitForDeduction } from '../withholding/helpers.js';

/**
 * Reconciliation (issue 17) end to end: real Alipay sandbox bills (GBK CSV in a zip, through
 * bill.downloadurl.query on the school's app_auth_token), the card-system sandbox's records, the daily job,
 * the CLI, the admin API, the exceptions inbox's repairs and the XLSX export. All trades are made on one
 * Beijing day (today), then the sandbox's clock moves 34 hours on, past the 09:00 at which that day's bill
 * exists.
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
        // A withholding charge left waiting for the buyer is cancelled at the first look (see 'makes the
        // day'); the cancel is held 15 s by the sandbox, so the SDK must wait longer than that.
        DEDUCTION_POLL_INTERVAL_MS: '200',
        DEDUCTION_POLL_WINDOW_MS: '0',
        ALIPAY_TIMEOUT_MS: '30000',
      },
      schoolSettings: { retryScheduleSeconds: [1] },
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
  let refunded: Array<{ outTradeNo: string; outRequestNo: string }>;
  let cancelledCharge: { deductionNo: string };
  let refusedCharge: { outTradeNo: string; amountFen: number };

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

    // Two recharges the card system refused, refunded by staff from the inbox: refunds in the bill.
    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    refunded = [];
    for (const amountFen of [600, 700]) {
      const failed = await creditFailedRecharge(stack, amountFen, 60_000);
      const res = await staff.http.post(
        `/api/v1/admin/schools/${stack.school.id}/inbox/recharge.credit-failed/${failed.orderId}/refund`,
        {},
      );
      assert.equal(res.status, 200, res.text);
      const refund = await eventually(
        async () => {
          const { rows } = await stack.app.deps.pool.query(
            `select out_request_no, status from refunds where out_trade_no = $1`,
            [failed.outTradeNo],
          );
          return rows[0]?.status === 'SUCCEEDED' ? rows[0] : undefined;
        },
        { timeoutMs: 60_000, message: 'the recharge was refunded' },
      );
      refunded.push({ outTradeNo: failed.outTradeNo, outRequestNo: refund.out_request_no });
    }

    // A canteen swipe whose first charge waits for the buyer; our cancel reaches Alipay just after the buyer
    // confirmed, so Alipay's cancel refunds it, and the swipe is collected under its next number.
    const payer = await signedPayer(stack, { bindTimeoutMs: 60_000 });
    const gateway = await gatewayFor(stack);
    await stack.alipay.control.injectApiFault({
      method: 'alipay.trade.pay',
      times: 1,
      payInProcess: { completeAfterMs: 8_000 },
    });
    await stack.alipay.control.injectApiFault({ method: 'alipay.trade.cancel', times: 1, latencyMs: 15_000 });
    const swipe = await gateway.deduct(sale(payer.card.cardNo, 800));
    assert.equal(swipe.body.decision, 'APPROVED', swipe.text);
    await waitForDeduction(gateway, swipe.body.txnNo, 'COLLECTED', 90_000);
    cancelledCharge = { deductionNo: swipe.body.deductionId };
    const charges = await chargesOf(stack, cancelledCharge.deductionNo);
    assert.deepEqual(
      [charges.trades.length, charges.refundedFen, charges.paid.map((t) => t.outTradeNo)],
      [2, 800, [`${cancelledCharge.deductionNo}_2`]],
      'the first charge was paid and then refunded by the cancel; the second one collected',
    );

    // A swipe whose charge Alipay refused (the payer's balance), retried once and left in arrears.
    const broke = await signedPayer(stack, { balanceFen: 0, bindTimeoutMs: 60_000 });
    const refused = await gateway.deduct(sale(broke.card.cardNo, 650));
    assert.equal(refused.body.decision, 'APPROVED', refused.text);
    await waitForDeduction(gateway, refused.body.txnNo, 'ARREARS', 60_000);
    const { rows } = await stack.app.deps.pool.query(
      'select out_trade_no, collected_at from deductions where deduction_no = $1',
      [refused.body.deductionId],
    );
    assert.deepEqual(rows[0].collected_at, null);
    refusedCharge = { outTradeNo: rows[0].out_trade_no, amountFen: 650 };
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
    const [refundA, refundB] = refunded;
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'AMOUNT',
      outTradeNo: refundA.outTradeNo,
      outRequestNo: refundA.outRequestNo,
      amountFen: 500,
    });
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'DROP',
      outTradeNo: refundB.outTradeNo,
      outRequestNo: refundB.outRequestNo,
    });
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
      ['REFUND_AMOUNT_DIFFERS', refundA.outTradeNo, 'INVESTIGATE'],
      ['REFUND_MISSING_AT_ALIPAY', refundB.outTradeNo, 'INVESTIGATE'],
    ];
    for (const [kind, outTradeNo, action] of expected) {
      assert.equal(byKind.get(kind)?.outTradeNo, outTradeNo, kind);
      assert.equal(byKind.get(kind)?.action, action, kind);
    }
    assert.equal(byKind.get('UNKNOWN_TRADE')?.action, 'INVESTIGATE');
    const refundFinding = first.json.findingList.find(
      (f: { kind: string }) => f.kind === 'REFUND_AMOUNT_DIFFERS',
    );
    assert.deepEqual([refundFinding.oursFen, refundFinding.alipayFen], [600, 500]);
    // The cancelled charge (paid, given back by the cancel, under a number the swipe no longer has) is no
    // difference: neither an unknown trade nor an unknown refund.
    assert.deepEqual(
      first.json.findingList
        .filter((f: { outTradeNo: string }) => f.outTradeNo.startsWith(cancelledCharge.deductionNo))
        .map((f: { kind: string }) => f.kind),
      [],
    );
    assert.equal(first.json.findingList.length, 8);
    const deductions = first.json.totals.kinds.find((k: { kind: string }) => k.kind === 'DEDUCTION');
    assert.deepEqual([deductions.rows, deductions.oursFen, deductions.alipayFen], [2, 1_600, 1_600]);
    const refunds = first.json.totals.kinds.find((k: { kind: string }) => k.kind === 'REFUND');
    assert.deepEqual([refunds.oursFen, refunds.alipayFen], [800 + 600 + 700, 800 + 500]);
    assert.match(first.stderr, /NOT BALANCED/);

    const again = await cli('--school', stack.school.code, '--date', billDate);
    assert.equal(again.json.findingList.length, 8, 'a rerun of the day duplicates nothing');
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

  /** A workbook as the finance office opens it: each sheet's rows as arrays of cell values. */
  async function sheetsOf(bytes: Buffer): Promise<Record<string, unknown[][]>> {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    const sheets: Record<string, unknown[][]> = {};
    workbook.eachSheet((sheet) => {
      const rows: unknown[][] = [];
      // Array.from: an empty cell reads as undefined (row.values is sparse).
      sheet.eachRow((row) => rows.push(Array.from((row.values as unknown[]).slice(1))));
      sheets[sheet.name] = rows;
    });
    return sheets;
  }

  it('exports the day as an XLSX workbook for the finance office: totals, findings and the bill rows', async () => {
    const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
    const url = `${stack.app.url}/api/v1/admin/schools/${stack.school.id}/reconciliation/days/${billDate}/export`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${viewer.http.token}` } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(
      res.headers.get('content-type'),
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename=.*\.xlsx/);
    const sheets = await sheetsOf(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual(Object.keys(sheets), ['汇总', '差异', '账单明细']);

    const totals = new Map(sheets['汇总'].map((row) => [row[0], row]));
    // Rows, ours, Alipay's, the vendor's (none for swipes), the difference; in yuan.
    assert.deepEqual(totals.get('刷卡代扣')?.slice(1, 6), [2, 16, 16, undefined, 0]);
    assert.deepEqual(totals.get('退款')?.slice(2, 4), [21, 13]);
    assert.equal(totals.get('对账结果')?.[1], '8 条差异待处理');
    assert.equal(totals.get('账单日期')?.[1], billDate);

    const [header, ...findings] = sheets['差异'];
    assert.deepEqual(header.slice(0, 3), ['差异', '差异代码', '处理方式']);
    assert.equal(findings.length, 8);
    const refundRow = findings.find((row) => row[1] === 'REFUND_AMOUNT_DIFFERS')!;
    assert.deepEqual(
      [refundRow[0], refundRow[7], refundRow[8], refundRow[10]],
      ['退款金额不一致', 6, 5, '待处理'],
    );
    const notCredited = findings.find((row) => row[1] === 'NOT_CREDITED')!;
    assert.equal(
      notCredited[6],
      `${'*'.repeat(a.card.cardNo.length - 4)}${a.card.cardNo.slice(-4)}`,
      'masked for a viewer',
    );

    const [billHeader, ...billRows] = sheets['账单明细'];
    assert.deepEqual(billHeader.slice(0, 4), ['行号', '支付宝交易号', '商户订单号', '业务类型']);
    const day = await stack.app.deps.pool.query(
      'select bill_rows from reconciliation_days where school_id = $1 and bill_date = $2',
      [stack.school.id, billDate],
    );
    assert.equal(billRows.length, day.rows[0].bill_rows);
    const corrupted = billRows.find((row) => row[2] === refunded[0].outTradeNo && row[3] === '退款')!;
    assert.deepEqual([corrupted[4], corrupted[7]], [refunded[0].outRequestNo, -5]);
    assert.ok(
      billRows.some((row) => row[2] === e.outTradeNo && row[7] === 41),
      'Alipay’s amount as billed',
    );

    const missing = await fetch(url.replace(billDate, '2020-01-01'), {
      headers: { authorization: `Bearer ${viewer.http.token}` },
    });
    assert.equal(missing.status, 404);
  });

  it('hands the finance office a link that opens the workbook in a browser for ten minutes', async () => {
    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    const base = `/api/v1/admin/schools/${stack.school.id}/reconciliation/days`;
    const link = await staff.http.post(`${base}/${billDate}/export-link`, {});
    assert.equal(link.status, 200, link.text);
    const expiresIn = Date.parse(link.body.expiresAt) - Date.now();
    assert.ok(expiresIn > 9 * 60_000 && expiresIn <= EXPORT_LINK_TTL_MS, String(expiresIn));

    const res = await fetch(link.body.url);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename=.*\.xlsx/);
    const sheets = await sheetsOf(Buffer.from(await res.arrayBuffer()));
    const notCredited = sheets['差异'].find((row) => row[1] === 'NOT_CREDITED')!;
    assert.equal(notCredited[6], a.card.cardNo, 'not masked for staff');

    const token = link.body.url.split('/').at(-1) as string;
    const [payload, mac] = token.split('.');
    const other = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), d: { s: clean.id } }),
    ).toString('base64url');
    // One character of the seal changed (to another one: the seal may itself start with 'x').
    const forgedMac = `${mac[0] === 'x' ? 'y' : 'x'}${mac.slice(1)}`;
    for (const bad of [`${other}.${mac}`, `${payload}.${forgedMac}`, 'nonsense']) {
      const refused = await fetch(link.body.url.replace(token, bad));
      assert.equal(refused.status, 410, bad);
      assert.equal(
        ((await refused.json()) as { error: { code: string } }).error.code,
        'RECONCILIATION_EXPORT_LINK_EXPIRED',
      );
    }
    const later = {
      ...stack.app.deps,
      clock: { now: () => new Date(Date.now() + EXPORT_LINK_TTL_MS + 1_000) },
    };
    assert.equal(openExportLink(later, token), null, 'expired after ten minutes');
    assert.ok(openExportLink(stack.app.deps, token));

    const notReconciled = await staff.http.post(`${base}/2020-01-01/export-link`, {});
    assert.equal(notReconciled.status, 404);
    const audit = await stack.app.deps.pool.query(
      `select target from audit_log where school_id = $1 and action = 'reconciliation.export-link'`,
      [stack.school.id],
    );
    assert.deepEqual(
      audit.rows.map((r) => r.target),
      [billDate],
    );
  });

  it('lists the open findings in the exceptions inbox, where staff repair each once, and the day turns balanced', async () => {
    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    const viewer = await adminOf(stack, stack.school.id, 'VIEWER');
    const base = `/api/v1/admin/schools/${stack.school.id}/reconciliation`;
    const inbox = `/api/v1/admin/schools/${stack.school.id}/inbox`;

    const calendar = await viewer.http.get(`${base}/days?from=${billDate}&to=${billDate}`);
    assert.equal(calendar.status, 200, calendar.text);
    assert.deepEqual(
      [calendar.body.days[0].billDate, calendar.body.days[0].balanced, calendar.body.days[0].openFindings],
      [billDate, false, 8],
    );
    const day = await viewer.http.get(`${base}/days/${billDate}`);
    assert.equal(day.status, 200, day.text);
    const find = (kind: string) => day.body.findingList.find((f: { kind: string }) => f.kind === kind);
    assert.deepEqual(find('NOT_CREDITED').repairs, ['re-credit', 'mark-handled']);
    assert.deepEqual(find('PAID_NOT_RECORDED').repairs, ['apply-payment', 'mark-handled']);
    assert.deepEqual(find('UNKNOWN_TRADE').repairs, ['mark-handled']);

    // The inbox holds them as one kind, each offering the repairs its finding takes.
    const listed = await staff.http.get(`${inbox}?kind=reconciliation.finding&limit=50`);
    assert.equal(listed.status, 200, listed.text);
    assert.equal(
      listed.body.kinds.find((k: { kind: string }) => k.kind === 'reconciliation.finding').count,
      8,
    );
    const item = (kind: string) => listed.body.items.find((i: { id: string }) => i.id === find(kind).id);
    assert.deepEqual(
      item('NOT_CREDITED').actions.map((x: { name: string }) => x.name),
      ['re-credit', 'mark-handled'],
    );
    assert.deepEqual(
      item('PAID_NOT_RECORDED').actions.map((x: { name: string }) => x.name),
      ['apply-payment', 'mark-handled'],
    );
    assert.deepEqual(
      item('UNKNOWN_TRADE').actions.map((x: { name: string; needsReason: boolean }) => [
        x.name,
        x.needsReason,
      ]),
      [['mark-handled', true]],
    );
    assert.match(item('REFUND_AMOUNT_DIFFERS').detail, /退款金额不一致 · 平台 ¥6\.00 \/ 支付宝 ¥5\.00/);
    const repair = (who: typeof staff, kind: string, action: string, body: object = {}) =>
      who.http.post(`${inbox}/reconciliation.finding/${find(kind).id}/${action}`, body);

    assert.equal((await repair(viewer, 'NOT_CREDITED', 're-credit')).status, 403);
    const wrong = await repair(staff, 'UNKNOWN_TRADE', 're-credit');
    assert.deepEqual([wrong.status, wrong.body.error.code], [409, 'FINDING_ACTION_NOT_APPLICABLE']);
    const noReason = await repair(staff, 'UNKNOWN_TRADE', 'mark-handled');
    assert.equal(noReason.status, 400);
    assert.equal(noReason.body.error.field, 'body.reason');

    // Re-credit: the vendor credits the same flow number again, once, however often it is tapped.
    const recredit = await repair(staff, 'NOT_CREDITED', 're-credit');
    assert.equal(recredit.status, 200, recredit.text);
    assert.deepEqual([recredit.body.changed, recredit.body.status], [true, 'RECREDITED']);
    const twice = await repair(staff, 'NOT_CREDITED', 're-credit');
    assert.deepEqual([twice.status, twice.body.changed], [200, false]);
    const credits = (await stack.cardsys.control.getRecords(stack.school.code, a.card.cardNo)).filter(
      (r) => r.type === 'RECHARGE' && r.refNo === a.outTradeNo,
    );
    assert.equal(credits.length, 1);

    // The lost notification, applied through the sweep's path: the order is paid and then credited.
    const applied = await repair(staff, 'PAID_NOT_RECORDED', 'apply-payment');
    assert.equal(applied.status, 200, applied.text);
    assert.equal(applied.body.status, 'APPLIED');
    await waitForRecharge(lost.api, lost.orderId, 'CREDITED', 60_000);

    const handledKinds = [
      'CREDITED_TWICE',
      'MISSING_AT_ALIPAY',
      'AMOUNT_DIFFERS',
      'UNKNOWN_TRADE',
      'REFUND_AMOUNT_DIFFERS',
      'REFUND_MISSING_AT_ALIPAY',
    ];
    for (const kind of handledKinds) {
      const handled = await repair(staff, kind, 'mark-handled', { reason: `查明: ${kind}` });
      assert.equal(handled.status, 200, handled.text);
      assert.equal(handled.body.status, 'HANDLED');
    }

    const after = await viewer.http.get(`${base}/days/${billDate}`);
    assert.deepEqual([after.body.balanced, after.body.openFindings], [true, 0]);
    const emptied = await staff.http.get(`${inbox}?kind=reconciliation.finding`);
    assert.deepEqual(emptied.body.items, []);
    const audit = await stack.app.deps.pool.query(
      // The repairs (the export links of the test before are audited too, as what they are).
      `select action from audit_log
        where school_id = $1 and action like 'reconciliation.%' and action <> 'reconciliation.export-link'
        order by id`,
      [stack.school.id],
    );
    assert.deepEqual(
      audit.rows.map((r) => r.action),
      [
        'reconciliation.re-credit',
        'reconciliation.apply-payment',
        ...handledKinds.map(() => 'reconciliation.mark-handled'),
      ],
    );

    // A rerun after the repairs stays balanced and adds nothing; its workbook shows what was done.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-xlsx-'));
    try {
      const file = path.join(dir, 'day.xlsx');
      const rerun = await cli('--school', stack.school.code, '--date', billDate, '--xlsx', file);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual([rerun.json.balanced, rerun.json.findingList.length], [true, 8]);
      const sheets = await sheetsOf(fs.readFileSync(file));
      const totals = new Map(sheets['汇总'].map((row) => [row[0], row]));
      assert.equal(totals.get('对账结果')?.[1], '已平');
      const findings = sheets['差异'].slice(1);
      assert.deepEqual([...new Set(findings.map((row) => row[10]))], ['已处理']);
      const recredited = findings.find((row) => row[1] === 'NOT_CREDITED')!;
      assert.deepEqual([recredited[6], recredited[11]], [a.card.cardNo, '已重新入账']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('produces the other kinds on purpose, each handled once: a refund and a withholding charge nobody made, a refused charge Alipay shows paid, a cancelled charge Alipay kept, a credit the vendor booked otherwise', async () => {
    const sellerId = stack.school.alipaySellerId!;
    // The cancel's refund of the first charge goes missing from the bill: Alipay kept that money.
    const { refunds: given } = await stack.alipay.control.ledger({ outTradeNo: cancelledCharge.deductionNo });
    const cancelRefund = given.find((r) => r.outTradeNo === cancelledCharge.deductionNo && r.byCancel)!;
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'DROP',
      outTradeNo: cancelledCharge.deductionNo,
      outRequestNo: cancelRefund.outRequestNo,
    });
    // A refund of one of our recharges that we never asked for.
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'STRANGER',
      outTradeNo: a.outTradeNo,
      outRequestNo: 'RNOBODYASKED1',
      amountFen: 300,
    });
    // A withholding charge under a deduction number of ours that no swipe has.
    const unknownCharge = newOrderNo('deduction');
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'STRANGER',
      outTradeNo: unknownCharge,
      amountFen: 900,
    });
    // The swipe Alipay refused to us, in its bill as paid: the student may have paid for a swipe we still
    // hold as owed.
    await stack.alipay.control.corruptBill({
      sellerId,
      billDate,
      kind: 'STRANGER',
      outTradeNo: refusedCharge.outTradeNo,
      amountFen: refusedCharge.amountFen,
    });
    // The vendor booked the (repaired) lost recharge of 5.00 as 4.00.
    await stack.cardsys.control.tamperCredit(stack.school.code, lost.outTradeNo, 'amount', 400);

    const run = await cli('--school', stack.school.code, '--date', billDate);
    assert.equal(run.code, 2, run.stderr);
    type Listed = {
      id: string;
      kind: string;
      outTradeNo: string;
      action: string;
      status: string;
      oursFen: number | null;
      alipayFen: number | null;
      vendorFen: number | null;
    };
    const fresh = (run.json.findingList as Listed[]).filter((f) => f.status === 'OPEN');
    assert.deepEqual(
      fresh
        .map((f) => [f.kind, f.outTradeNo, f.action, f.oursFen, f.alipayFen, f.vendorFen])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [
        // Paid at Alipay, not collected here: withholding has no path that applies a payment from the
        // bill (the collector settles its charges by query), so a person looks.
        ['PAID_NOT_RECORDED', refusedCharge.outTradeNo, 'INVESTIGATE', 650, 650, null],
        ['REFUND_UNKNOWN', a.outTradeNo, 'INVESTIGATE', null, 300, null],
        ['SUPERSEDED_PAID', cancelledCharge.deductionNo, 'INVESTIGATE', 800, 800, null],
        ['UNKNOWN_DEDUCTION', unknownCharge, 'INVESTIGATE', null, 900, null],
        ['VENDOR_AMOUNT_DIFFERS', lost.outTradeNo, 'ESCALATE', 500, 500, 400],
      ],
    );
    assert.equal(run.json.findingList.length, 13, 'the 8 handled ones stay as they were');
    const deductions = run.json.totals.kinds.find((k: { kind: string }) => k.kind === 'DEDUCTION');
    assert.deepEqual(
      [deductions.oursFen, deductions.alipayFen, deductions.differenceFen],
      [800, 1_600 + 650, -800 - 650],
      'the kept charge and the refused one are differences, and each has its finding',
    );
    const again = await cli('--school', stack.school.code, '--date', billDate);
    assert.deepEqual(
      (again.json.findingList as Listed[]).map((f) => f.id).sort(),
      (run.json.findingList as Listed[]).map((f) => f.id).sort(),
      'a rerun duplicates nothing',
    );

    const staff = await adminOf(stack, stack.school.id, 'STAFF');
    // The admin area's findings list shows it with its action and the one repair it takes.
    const day = await staff.http.get(
      `/api/v1/admin/schools/${stack.school.id}/reconciliation/days/${billDate}`,
    );
    const unrecorded = day.body.findingList.find(
      (f: { kind: string; status: string }) => f.kind === 'PAID_NOT_RECORDED' && f.status === 'OPEN',
    );
    assert.deepEqual(
      [unrecorded.outTradeNo, unrecorded.recordKind, unrecorded.action, unrecorded.repairs],
      [refusedCharge.outTradeNo, 'DEDUCTION', 'INVESTIGATE', ['mark-handled']],
    );
    const inbox = `/api/v1/admin/schools/${stack.school.id}/inbox`;
    const listed = await staff.http.get(`${inbox}?kind=reconciliation.finding&limit=50`);
    assert.deepEqual(
      listed.body.items
        .map(
          (i: { id: string; actions: Array<{ name: string }> }) =>
            `${i.id} ${i.actions.map((x) => x.name).join()}`,
        )
        .sort(),
      fresh.map((f) => `${f.id} mark-handled`).sort(),
      'each is there to investigate (or to take to the vendor), none to reverse',
    );
    for (const f of fresh) {
      const path = `${inbox}/reconciliation.finding/${f.id}/mark-handled`;
      const handled = await staff.http.post(path, { reason: `查明: ${f.kind}` });
      assert.deepEqual([handled.status, handled.body.changed], [200, true], handled.text);
      const twice = await staff.http.post(path, { reason: 'again' });
      assert.deepEqual([twice.status, twice.body.changed], [200, false]);
    }
    const done = await cli('--school', stack.school.code, '--date', billDate);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual([done.json.balanced, done.json.findingList.length], [true, 13]);
  });

  it('does not show one school’s reconciliation to another school’s admins', async () => {
    const other = await adminOf(stack, clean.id, 'OWNER');
    const res = await other.http.get(
      `/api/v1/admin/schools/${stack.school.id}/reconciliation/days/${billDate}`,
    );
    assert.equal(res.status, 403);
  });
});
