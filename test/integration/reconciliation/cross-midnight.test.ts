import assert from 'node:assert/strict';
import { beijingDate, reconcileDay } from '../../../server/src/domain/reconciliation/reconcile-day.js';
import { OffsetClock } from '../../support/clock.js';
import { startStack, type Stack } from '../../support/stack.js';
import { waitForRecharge } from '../student/helpers.js';

/**
 * A trade Alipay completed at 23:59:59 Beijing whose notification (and so our PAID and the card's credit)
 * arrives after midnight (issue 17). Alipay's bill puts it on its day D; we hold it as paid on D+1. It
 * belongs to D on both sides: D matches it, and D+1 neither misses it at Alipay nor counts it again, because
 * our records paid within a day count as missing only when no stored bill of the school (any day) has them.
 * If D+1 runs before D's bill is stored, it reports the trade missing at Alipay until a rerun after D,
 * which clears the finding.
 */
describe('reconciliation: a trade paid just before midnight, notified just after', function () {
  this.timeout(240_000);
  // Our clock follows the Alipay sandbox's, which the test moves to a few seconds before a Beijing midnight.
  const clock = new OffsetClock();
  let stack: Stack;

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({
      clock,
      // The sweep would ask Alipay before the notification came; here the late notification must pay it.
      env: { RECHARGE_SWEEP_AFTER_MS: '3600000' },
    });
  });
  after(() => stack?.stop());

  async function sandboxNow(): Promise<Date> {
    return new Date((await stack.alipay.control.clock()).iso);
  }

  it('belongs to Alipay’s day on both sides, whichever of the two days is reconciled first', async () => {
    const user = await stack.createUser(100_000);
    const card = await stack.createCard({ schoolCode: stack.school.code, balanceFen: 0 });

    // Both clocks to 15 s before the next Beijing midnight (binding and ordering take a few of them).
    const before = await sandboxNow();
    const beijingDay = beijingDate(before);
    const [y, m, d] = beijingDay.split('-').map(Number);
    const midnight = Date.UTC(y, m - 1, d + 1) - 8 * 3_600_000;
    await stack.alipay.control.advanceClock({ ms: midnight - 15_000 - before.getTime() });
    clock.advance((await sandboxNow()).getTime() - clock.now().getTime());
    const dayD = beijingDate(clock.now());
    assert.equal(dayD, beijingDay);

    const api = await user.login();
    const bound = await api.post('/api/v1/bindings', {
      schoolId: stack.school.id,
      cardNo: card.cardNo,
      name: card.holderName,
      relation: 'SELF',
      studentNo: card.studentNo,
    });
    assert.equal(bound.status, 201, bound.text);
    const created = await api.post('/api/v1/recharges', { bindingId: bound.body.id, amountFen: 2_000 });
    assert.equal(created.status, 201, created.text);
    // The notification leaves Alipay 2 s after midnight.
    const payAt = await sandboxNow();
    await stack.alipay.control.injectNotifyFault({
      action: 'delay',
      notifyType: 'trade_status_sync',
      delayMs: midnight + 2_000 - payAt.getTime(),
      times: 1,
    });
    const paid = await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: user.userId });
    assert.equal(paid.resultCode, '9000');
    await waitForRecharge(api, created.body.id, 'CREDITED', 90_000);

    const [trade] = (await stack.alipay.control.ledger({ outTradeNo: created.body.outTradeNo })).trades;
    assert.ok(new Date(trade.paidAt!).getTime() < midnight, `Alipay completed it on ${dayD}`);
    const { rows } = await stack.app.deps.pool.query('select paid_at from recharge_orders where id = $1', [
      created.body.id,
    ]);
    const dayD1 = beijingDate(rows[0].paid_at);
    assert.ok(rows[0].paid_at.getTime() >= midnight, 'we learnt of it after midnight');
    assert.notEqual(dayD1, dayD);

    // Both days' bills exist (09:00 the day after D+1).
    await stack.alipay.control.advanceClock({ days: 1, hours: 10 });

    // D+1 first, before D's bill is stored: the trade looks missing at Alipay.
    const early = await reconcileDay(stack.app.deps, stack.school, dayD1);
    assert.deepEqual([early.billRows, early.openFindings, early.balanced], [0, 1, false]);
    const missing = await stack.app.deps.pool.query(
      `select kind, out_trade_no from reconciliation_findings where school_id = $1 and bill_date = $2`,
      [stack.school.id, dayD1],
    );
    assert.deepEqual(missing.rows, [{ kind: 'MISSING_AT_ALIPAY', out_trade_no: created.body.outTradeNo }]);

    // D: Alipay's row and ours (and the vendor's credit, made after midnight) agree.
    const onD = await reconcileDay(stack.app.deps, stack.school, dayD);
    assert.deepEqual([onD.billRows, onD.openFindings, onD.balanced], [1, 0, true]);
    const recharges = onD.totals!.kinds.find((k) => k.kind === 'RECHARGE')!;
    assert.deepEqual(
      [recharges.rows, recharges.oursFen, recharges.alipayFen, recharges.vendorFen],
      [1, 2_000, 2_000, 2_000],
    );

    // D+1 again: the trade is D's; the finding is cleared and nothing of D+1 counts it.
    const rerun = await reconcileDay(stack.app.deps, stack.school, dayD1);
    assert.deepEqual([rerun.newFindings, rerun.openFindings, rerun.balanced], [0, 0, true]);
    assert.equal(rerun.totals!.all.oursFen, 0);
    const cleared = await stack.app.deps.pool.query(
      `select status, resolution from reconciliation_findings where school_id = $1 and bill_date = $2`,
      [stack.school.id, dayD1],
    );
    assert.deepEqual(cleared.rows, [{ status: 'RESOLVED', resolution: 'CLEARED' }]);
  });
});
