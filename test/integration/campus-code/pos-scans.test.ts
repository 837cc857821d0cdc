import assert from 'node:assert/strict';
import { createGatewayClient } from '../../../server/src/domain/schools/gateway-clients.js';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { freePort } from '../../../server/src/db/embedded-postgres.js';
import type { CampusCodeScanView } from '../../../scripts/sandbox/cardsys/control-types.js';
import { adminOf } from '../../support/admins.js';
import { eventually } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard } from '../student/helpers.js';
import { chargesOf } from '../withholding/helpers.js';

const HOUR_MS = 3_600_000;

/**
 * Campus codes the way they happen (seed 001 §5): the student shows the code (Alipay sandbox), a till of
 * the card-system sandbox scans it and says "paid" at once, uploads it in a batch later, and the platform
 * charges Alipay. The platform runs on a hand-moved clock, so that held uploads can arrive late or expired.
 */
describe('campus codes scanned at the card system’s tills', () => {
  const clock = new ManualClock();
  let stack: Stack;
  let platform: { baseUrl: string; clientId: string; secret: string };

  before(async function () {
    // Starting the stack (PostgreSQL, sandboxes, server) takes longer than a test on a busy machine.
    this.timeout(120_000);
    stack = await startStack({ clock });
    clock.set(new Date());
    const pos = await createGatewayClient(stack.app.deps, { schoolId: stack.school.id, name: '超市收银' });
    platform = { baseUrl: stack.app.url, clientId: pos.clientId, secret: pos.secret };
    await stack.cardsys.control.configurePlatform(stack.school.code, platform);
  });
  after(() => stack.stop());

  /** A student with a bound card shows an Alipay campus code (Alipay sandbox, SDK outputs). */
  async function studentCode(balanceFen = 10_000) {
    const student = await userWithCard(stack, { balanceFen });
    const code = await stack.alipay.control.issueCampusCode({
      userId: student.user.userId,
      schoolCode: stack.school.code,
      studentNo: student.card.studentNo!,
      studentName: student.card.holderName,
    });
    return { student, code };
  }

  const scan = (code: { finalData: string }, amountFen: number, terminalId = 'TILL-1') =>
    stack.cardsys.control.scanCampusCode({
      schoolCode: stack.school.code,
      terminalId,
      amountFen,
      code: code as never,
    });

  function uploaded(txnNo: string): Promise<CampusCodeScanView> {
    return eventually(async () => {
      const view = await stack.cardsys.control.getScan(txnNo, stack.school.code);
      return view.uploadState === 'UPLOADED' ? view : undefined;
    });
  }

  const paymentStatus = async (txnNo: string) => {
    const { rows } = await stack.app.deps.pool.query(
      'select status, is_late from campus_code_payments where txn_no = $1',
      [txnNo],
    );
    return rows[0] as { status: string; is_late: boolean } | undefined;
  };

  it('says "paid" at the till at once, uploads the payment, and Alipay charges the student, who sees it on the statement', async () => {
    const { student, code } = await studentCode(10_000);
    const sale = await scan(code, 1_380);
    assert.deepEqual([sale.result, sale.refusal, sale.uploadState], ['PAID', null, 'QUEUED']);
    const view = await uploaded(sale.txnNo);
    assert.equal(view.answer?.result, 'ACCEPTED');
    await eventually(async () => (await paymentStatus(sale.txnNo))?.status === 'PAID');
    const { paid } = await chargesOf(stack, view.answer!.paymentNo!);
    assert.equal(paid.length, 1);
    assert.equal(paid[0].buyerUserId, student.user.userId);
    assert.equal((await stack.alipay.control.getUser(student.user.userId)).balanceFen, 10_000 - 1_380);
    clock.set(new Date()); // the platform's hand-moved clock catches up with the till's
    const statement = (await student.api.get(`/api/v1/bindings/${student.bindingId}/statement`)).body;
    const entry = statement.entries.find((e: { kind: string }) => e.kind === 'CAMPUS_CODE');
    assert.deepEqual([entry.amountFen, entry.place, entry.status], [-1_380, '超市收银 · TILL-1', 'PAID']);
  });

  it('refuses a code older than 2 minutes and the same code twice on one till; another till takes it, the platform does not', async () => {
    const { code } = await studentCode();
    const stale = await stack.cardsys.control.scanCampusCode({
      schoolCode: stack.school.code,
      terminalId: 'TILL-1',
      amountFen: 100,
      code: code as never,
      scannedAt: new Date(code.inUseTime + 3 * 60_000).toISOString(),
    });
    assert.deepEqual([stale.result, stale.refusal], ['REFUSED', 'CODE_TIMEOUT']);
    const first = await scan(code, 500, 'TILL-2');
    assert.equal(first.result, 'PAID');
    const again = await scan(code, 500, 'TILL-2');
    assert.deepEqual([again.result, again.refusal], ['REFUSED', 'ALREADY_SCANNED']);
    const elsewhere = await scan(code, 500, 'TILL-3');
    assert.equal(elsewhere.result, 'PAID', 'seed 001 §4: only "有条件的设备" avoid it across devices');
    const answers = await Promise.all([uploaded(first.txnNo), uploaded(elsewhere.txnNo)]);
    assert.deepEqual(answers.map((a) => a.answer?.result).sort(), ['ACCEPTED', 'DUPLICATE_CODE']);
  });

  it('uploads a failed batch again unchanged, and a resent batch gets the first answers', async () => {
    const dead = await freePort();
    await stack.cardsys.control.configurePlatform(stack.school.code, {
      ...platform,
      baseUrl: `http://127.0.0.1:${dead}`,
      connectTimeoutMs: 200,
    });
    const { code } = await studentCode();
    const sale = await scan(code, 250);
    const batches = await eventually(async () => {
      const list = await stack.cardsys.control.listCampusCodeBatches(stack.school.code);
      const mine = list.find((b) => b.txnNos.includes(sale.txnNo));
      return mine?.state === 'FAILED' ? mine : undefined;
    });
    await stack.cardsys.control.configurePlatform(stack.school.code, platform);
    const view = await uploaded(sale.txnNo);
    assert.equal(view.answer?.result, 'ACCEPTED');
    const resent = await stack.cardsys.control.resendCampusCodeBatch(batches.batchId);
    assert.equal(resent.state, 'ANSWERED');
    assert.ok(resent.sends >= 3);
    const after = await stack.cardsys.control.getScan(sale.txnNo, stack.school.code);
    assert.equal(after.answer?.result, 'ACCEPTED', 'the scan keeps the first answer');
    assert.equal((await chargesOf(stack, view.answer!.paymentNo!)).trades.length <= 1, true);
  });

  it('accepts an upload held past 24 hours as late, and refuses one held past 10 days as EXPIRED', async () => {
    await stack.cardsys.control.setCampusCodeUploads(stack.school.code, { held: true });
    const late = await scan((await studentCode()).code, 300);
    clock.advance(25 * HOUR_MS);
    await stack.cardsys.control.setCampusCodeUploads(stack.school.code, { held: false });
    // By the platform's clock the code is a day old: still within the school's 10 days, but late.
    const lateView = await uploaded(late.txnNo);
    assert.deepEqual([lateView.answer?.result, lateView.answer?.late], ['ACCEPTED', true]);

    await stack.cardsys.control.setCampusCodeUploads(stack.school.code, { held: true });
    const held = await scan((await studentCode()).code, 450);
    clock.advance(10 * 24 * HOUR_MS);
    await stack.cardsys.control.setCampusCodeUploads(stack.school.code, { held: false });
    const view = await uploaded(held.txnNo);
    assert.deepEqual([view.answer?.result, view.answer?.late], ['EXPIRED', true]);
    assert.deepEqual(await paymentStatus(held.txnNo), { status: 'EXPIRED', is_late: true });

    // The school's admins see both, with the device to chase.
    const admin = await adminOf(stack, stack.school.id, 'VIEWER');
    const list = (kind: string) =>
      admin.http.get(`/api/v1/admin/schools/${stack.school.id}/campus-code/exceptions?kind=${kind}`);
    const expired = await list('EXPIRED');
    assert.equal(expired.status, 200, expired.text);
    const [gone] = expired.body.items;
    assert.deepEqual(
      [gone.txnNo, gone.status, gone.amountFen, gone.device.name, gone.device.terminalId],
      [held.txnNo, 'EXPIRED', 450, '超市收银', 'TILL-1'],
    );
    assert.ok(gone.uploadDelayHours > 24 * 10);
    const lateOnes = (await list('LATE')).body.items.map((i: { txnNo: string }) => i.txnNo);
    assert.deepEqual(lateOnes, [held.txnNo, late.txnNo], 'newest first');
    const summary = await admin.http.get(`/api/v1/admin/schools/${stack.school.id}/campus-code/summary`);
    assert.deepEqual(summary.body, { LATE: 2, EXPIRED: 1, FAILED: 0 });
  });

  it('answers EXPIRED to a till that scanned a code 11 days ago and uploads it only now, and shows it to the admins', async () => {
    const { student } = await studentCode();
    const madeAt = new Date(Date.now() - 11 * 24 * HOUR_MS);
    const code = await stack.alipay.control.issueCampusCode({
      userId: student.user.userId,
      schoolCode: stack.school.code,
      studentNo: student.card.studentNo!,
      studentName: student.card.holderName,
      madeAt: madeAt.toISOString(),
    });
    const sale = await stack.cardsys.control.scanCampusCode({
      schoolCode: stack.school.code,
      terminalId: 'TILL-OLD',
      amountFen: 600,
      scannedAt: madeAt.toISOString(),
      code: code as never,
    });
    assert.equal(sale.result, 'PAID', 'the till itself says paid: it checks the code against its own clock');
    const view = await uploaded(sale.txnNo);
    assert.deepEqual([view.answer?.result, view.answer?.late], ['EXPIRED', true]);
    const admin = await adminOf(stack, stack.school.id, 'VIEWER');
    const expired = await admin.http.get(
      `/api/v1/admin/schools/${stack.school.id}/campus-code/exceptions?kind=EXPIRED`,
    );
    const item = expired.body.items.find((i: { txnNo: string }) => i.txnNo === sale.txnNo);
    assert.deepEqual(
      [item?.device.terminalId, item?.student.studentNo, item?.amountFen],
      ['TILL-OLD', student.card.studentNo, 600],
    );
  });

  it('shows the exceptions to the school’s admins only', async () => {
    const stranger = await (await stack.createUser()).login();
    const res = await stranger.get(
      `/api/v1/admin/schools/${stack.school.id}/campus-code/exceptions?kind=LATE`,
    );
    assert.equal(res.status, 403);
    const admin = await adminOf(stack, stack.school.id, 'VIEWER');
    const bad = await admin.http.get(
      `/api/v1/admin/schools/${stack.school.id}/campus-code/exceptions?kind=LOST`,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'query.kind');
  });
});
