import assert from 'node:assert/strict';
import { insertFindings, saveDay } from '../../../server/src/db/repos/reconciliation/days.js';
import { paymentFinding, vendorFinding } from '../../../server/src/domain/reconciliation/findings.js';
import { repairFinding } from '../../../server/src/domain/reconciliation/repairs.js';
import { DomainError } from '../../../server/src/domain/errors.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import { startStack, type Stack } from '../../support/stack.js';
import { userWithCard, waitForRecharge } from '../student/helpers.js';

/**
 * The repairs of reconciliation findings, each test on its own day (issue 17; issue 20's mutation testing:
 * every test stands alone, so one can run without the others). The findings are written as the daily run
 * writes them (findings.ts), for records made here; the repair then goes through the capability's own code,
 * once, and the day is counted again.
 */
describe('repairing reconciliation findings, each once', function () {
  this.timeout(120_000);
  let stack: Stack;
  let day = 0;

  before(async function () {
    this.timeout(180_000);
    stack = await startStack({ env: { RECHARGE_SWEEP_AFTER_MS: '3600000', RECONCILE_AUTO: 'false' } });
  });
  afterEach(() => stack.cardsys.control.clearFaults());
  after(() => stack?.stop());

  const deps = () => stack.app.deps;
  const NOT_APPLICABLE = (message?: RegExp) => (error: unknown) =>
    error instanceof DomainError &&
    error.code === 'FINDING_ACTION_NOT_APPLICABLE' &&
    (!message || message.test(error.message));

  /** A day of its own, MATCHED (the bill was read) with `uncheckedCards` the vendor could not be asked about. */
  async function newDay(options: { status?: 'MATCHED' | 'FAILED'; uncheckedCards?: number } = {}) {
    day += 1;
    const billDate = `2025-01-${String(day).padStart(2, '0')}`;
    await saveDay(
      deps().db,
      stack.school.id,
      billDate,
      {
        status: options.status ?? 'MATCHED',
        totals: { vendor: { uncheckedCards: options.uncheckedCards ?? 0 } },
        findings: 1,
        openFindings: 1,
        balanced: false,
      },
      new Date(),
    );
    return { schoolId: stack.school.id, billDate };
  }

  async function findingOf(base: { schoolId: string; billDate: string }) {
    const { rows } = await deps().pool.query(
      'select * from reconciliation_findings where school_id = $1 and bill_date = $2',
      [base.schoolId, base.billDate],
    );
    return rows[0] as {
      id: string;
      status: string;
      resolution: string | null;
      resolved_by: string | null;
      note: string | null;
    };
  }

  async function dayOf(base: { schoolId: string; billDate: string }) {
    const { rows } = await deps().pool.query(
      'select findings, open_findings, balanced from reconciliation_days where school_id = $1 and bill_date = $2',
      [base.schoolId, base.billDate],
    );
    return rows[0] as { findings: number; open_findings: number; balanced: boolean };
  }

  async function auditOf(target: string) {
    const { rows } = await deps().pool.query(
      'select action, before, after from audit_log where school_id = $1 and target = $2 order by id',
      [stack.school.id, target],
    );
    return rows as Array<{ action: string; before: Record<string, unknown>; after: Record<string, unknown> }>;
  }

  /** A recharge Alipay took whose notification never came: still unpaid here. */
  async function lostRecharge(amountFen: number, options: { pay?: boolean } = {}) {
    const payer = await userWithCard(stack);
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    assert.equal(created.status, 201, created.text);
    if (options.pay ?? true) {
      await stack.alipay.control.injectNotifyFault({
        action: 'drop',
        notifyType: 'trade_status_sync',
        times: 1,
      });
      await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    }
    return { ...payer, outTradeNo: created.body.outTradeNo as string, orderId: created.body.id as string };
  }

  /** A recharge paid and credited, whose credit the vendor then lost (its record dropped). */
  async function lostCredit(amountFen: number, cardBalanceFen: number) {
    const payer = await userWithCard(stack, { cardBalanceFen });
    const created = await payer.api.post('/api/v1/recharges', { bindingId: payer.bindingId, amountFen });
    await stack.alipay.control.payTrade({ tradeNO: created.body.tradeNo, userId: payer.user.userId });
    await waitForRecharge(payer.api, created.body.id, 'CREDITED', 30_000);
    const outTradeNo = created.body.outTradeNo as string;
    await stack.cardsys.control.tamperCredit(stack.school.code, outTradeNo, 'drop');
    const balance = async () =>
      (await stack.cardsys.control.getCard(stack.school.code, payer.card.cardNo)).balanceFen;
    return { payer, outTradeNo, balance };
  }

  function missedPayment(outTradeNo: string, fen: number) {
    return {
      side: 'BILL' as const,
      outTradeNo,
      tradeNo: null,
      recordKind: 'RECHARGE',
      status: 'CREATED',
      isPaid: false,
      oursFen: fen,
      alipayFen: fen,
      cardNo: null,
      oursRoyaltyFen: null,
      alipayRoyaltyFen: null,
    };
  }

  it('applies a payment whose notification was lost, once, audited, and the day balances', async () => {
    const lost = await lostRecharge(1_000);
    const base = await newDay();
    await insertFindings(deps().db, [paymentFinding(base, missedPayment(lost.outTradeNo, 1_000))]);
    const { id } = await findingOf(base);
    const repair = (repair: string, reason?: string) =>
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair, reason });

    await assert.rejects(
      repair('re-credit'),
      NOT_APPLICABLE(/^PAID_NOT_RECORDED takes apply-payment or mark-handled, not re-credit$/),
    );
    await assert.rejects(repair('mark-handled'), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.deepEqual(
        [error.code, error.message, error.field],
        ['VALIDATION_FAILED', 'body.reason: say what was done', 'body.reason'],
      );
      return true;
    });
    assert.equal((await findingOf(base)).status, 'OPEN');

    const applied = await repair('apply-payment');
    assert.equal(applied.changed, true);
    assert.deepEqual(
      [applied.finding.status, applied.finding.resolution, applied.finding.resolvedBy, applied.finding.note],
      ['RESOLVED', 'APPLIED', 'OPERATOR:test-operator', null],
    );
    await waitForRecharge(lost.api, lost.orderId, 'CREDITED', 30_000);
    assert.deepEqual(await dayOf(base), { findings: 1, open_findings: 0, balanced: true });
    const audit = await auditOf(lost.outTradeNo);
    assert.deepEqual(
      audit.map((a) => [
        a.action,
        a.before.kind,
        a.before.status,
        a.after.status,
        a.after.resolution,
        a.after.reason,
      ]),
      [['reconciliation.apply-payment', 'PAID_NOT_RECORDED', 'OPEN', 'RESOLVED', 'APPLIED', undefined]],
    );

    const again = await repair('apply-payment');
    assert.deepEqual([again.changed, again.finding.status], [false, 'RESOLVED']);
    assert.equal((await auditOf(lost.outTradeNo)).length, 1, 'audited once');
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, {
        id: '00000000-0000-4000-8000-000000000000',
        repair: 'mark-handled',
        reason: 'x',
      }),
      (error: unknown) => error instanceof DomainError && error.code === 'FINDING_NOT_FOUND',
    );
    const other = await stack.addSchool();
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, other.id, { id, repair: 'apply-payment' }),
      (error: unknown) => error instanceof DomainError && error.code === 'FINDING_NOT_FOUND',
    );
  });

  it('refuses to apply a payment Alipay does not confirm, and leaves the finding open', async () => {
    const unpaid = await lostRecharge(700, { pay: false });
    const base = await newDay();
    await insertFindings(deps().db, [paymentFinding(base, missedPayment(unpaid.outTradeNo, 700))]);
    const { id } = await findingOf(base);
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 'apply-payment' }),
      NOT_APPLICABLE(/does not confirm/),
    );
    assert.equal((await findingOf(base)).status, 'OPEN');
    assert.deepEqual(await dayOf(base), { findings: 1, open_findings: 1, balanced: false });
    assert.deepEqual(await auditOf(unpaid.outTradeNo), []);
  });

  it('re-credits a credit the vendor lost with the order’s own flow number, once however often it is asked', async () => {
    const { payer, outTradeNo, balance } = await lostCredit(2_000, 1_000);
    assert.equal(await balance(), 1_000, 'the vendor lost the credit');

    // One unchecked card left on the day: repaired, but not balanced.
    const base = await newDay({ uncheckedCards: 1 });
    const finding = vendorFinding(base, { outTradeNo, cardNo: payer.card.cardNo, amountFen: 2_000 }, [])!;
    await insertFindings(deps().db, [finding]);
    const { id } = await findingOf(base);
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 'apply-payment' }),
      NOT_APPLICABLE(/NOT_CREDITED takes re-credit or mark-handled, not apply-payment/),
    );
    const done = await repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 're-credit' });
    assert.deepEqual([done.changed, done.finding.resolution], [true, 'RECREDITED']);
    assert.equal(await balance(), 3_000);
    assert.deepEqual(await dayOf(base), { findings: 1, open_findings: 0, balanced: false });
    const twice = await repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 're-credit' });
    assert.equal(twice.changed, false);
    assert.equal(await balance(), 3_000, 'credited once');
    assert.deepEqual(
      (await auditOf(outTradeNo)).map((a) => [a.action, a.after.resolution]),
      [['reconciliation.re-credit', 'RECREDITED']],
    );
  });

  it('takes only mark-handled, with what was done, for what a person must look at; a failed day never balances', async () => {
    const payer = await userWithCard(stack);
    const base = await newDay({ status: 'FAILED' });
    const outTradeNo = `R${Date.now()}`;
    await insertFindings(deps().db, [
      paymentFinding(base, {
        ...missedPayment(outTradeNo, 500),
        isPaid: true,
        alipayFen: 501,
        cardNo: payer.card.cardNo,
      }),
    ]);
    const { id } = await findingOf(base);
    for (const repair of ['apply-payment', 're-credit', 'reverse'])
      await assert.rejects(
        repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair }),
        NOT_APPLICABLE(new RegExp(`^AMOUNT_DIFFERS takes mark-handled, not ${repair}$`)),
      );
    const handled = await repairFinding(deps(), TEST_OPERATOR, stack.school.id, {
      id,
      repair: 'mark-handled',
      reason: '学生已线下退回 1 分',
    });
    assert.deepEqual(
      [handled.changed, handled.finding.resolution, handled.finding.note],
      [true, 'HANDLED', '学生已线下退回 1 分'],
    );
    assert.deepEqual(await dayOf(base), { findings: 1, open_findings: 0, balanced: false });
    const [audit] = await auditOf(outTradeNo);
    assert.deepEqual(
      [audit.action, audit.before.billDate, audit.after],
      [
        'reconciliation.mark-handled',
        base.billDate,
        { status: 'RESOLVED', resolution: 'HANDLED', reason: '学生已线下退回 1 分' },
      ],
    );
  });
  it('takes only mark-handled for a finding whose action this version does not know', async () => {
    const base = await newDay();
    const outTradeNo = `R${Date.now()}`;
    await insertFindings(deps().db, [paymentFinding(base, missedPayment(outTradeNo, 300))]);
    const { id } = await findingOf(base);
    // Written by another version of the reconciler, with an action this one has no repair for.
    await deps().pool.query(`update reconciliation_findings set action = 'REFUND_AGAIN' where id = $1`, [id]);
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 'apply-payment' }),
      NOT_APPLICABLE(/^PAID_NOT_RECORDED takes mark-handled, not apply-payment$/),
    );
    const handled = await repairFinding(deps(), TEST_OPERATOR, stack.school.id, {
      id,
      repair: 'mark-handled',
      reason: 'looked at by hand',
    });
    assert.deepEqual([handled.changed, handled.finding.resolution], [true, 'HANDLED']);
  });

  it('resolves a finding once when two people tap at the same moment, and a later tap changes nothing even unexplained', async () => {
    const base = await newDay();
    const outTradeNo = `R${Date.now()}X`;
    await insertFindings(deps().db, [
      paymentFinding(base, { ...missedPayment(outTradeNo, 300), isPaid: true, alipayFen: 301 }),
    ]);
    const { id } = await findingOf(base);
    const tap = (reason?: string) =>
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 'mark-handled', reason });
    await assert.rejects(
      tap(),
      (error: unknown) => error instanceof DomainError && error.code === 'VALIDATION_FAILED',
    );
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 'apply-payment' }),
      (error: unknown) => {
        assert.ok(error instanceof DomainError);
        assert.deepEqual([error.code, error.field], ['FINDING_ACTION_NOT_APPLICABLE', 'params.action']);
        return true;
      },
    );

    const taps = await Promise.all([tap('对过账了'), tap('对过账了')]);
    assert.deepEqual(
      taps.map((t) => t.changed).sort(),
      [false, true],
      'one tap resolves it, the other is told nothing changed',
    );
    for (const t of taps) assert.deepEqual([t.finding.id, t.finding.status], [id, 'RESOLVED']);
    assert.equal((await auditOf(outTradeNo)).length, 1, 'audited once');
    const later = await tap();
    assert.deepEqual(
      [later.changed, later.finding.status],
      [false, 'RESOLVED'],
      'no reason needed for nothing',
    );
    assert.deepEqual(await dayOf(base), { findings: 1, open_findings: 0, balanced: true });
  });

  it("re-credits only this school's own order, and keeps the finding open when the card system cannot be reached", async () => {
    const { payer, outTradeNo, balance } = await lostCredit(900, 0);
    const notFound = (error: unknown) => error instanceof DomainError && error.code === 'FINDING_NOT_FOUND';

    // A finding naming an order no one made, and one filed under another school for this school's order.
    const unknown = await newDay();
    await insertFindings(deps().db, [
      vendorFinding(
        unknown,
        { outTradeNo: `${outTradeNo}9`, cardNo: payer.card.cardNo, amountFen: 900 },
        [],
      )!,
    ]);
    const other = await stack.addSchool();
    day += 1;
    const elsewhere = { schoolId: other.id, billDate: `2025-01-${String(day).padStart(2, '0')}` };
    await insertFindings(deps().db, [
      vendorFinding(elsewhere, { outTradeNo, cardNo: payer.card.cardNo, amountFen: 900 }, [])!,
    ]);
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, {
        id: (await findingOf(unknown)).id,
        repair: 're-credit',
      }),
      notFound,
    );
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, other.id, {
        id: (await findingOf(elsewhere)).id,
        repair: 're-credit',
      }),
      notFound,
    );
    assert.equal(await balance(), 0, 'nothing credited for either');

    const base = await newDay();
    await insertFindings(deps().db, [
      vendorFinding(base, { outTradeNo, cardNo: payer.card.cardNo, amountFen: 900 }, [])!,
    ]);
    const { id } = await findingOf(base);
    await stack.cardsys.control.injectFault({
      schoolCode: stack.school.code,
      operation: 'Recharge',
      kind: 'HTTP_503',
    });
    await assert.rejects(
      repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 're-credit' }),
      (error: unknown) => error instanceof DomainError && error.code === 'CARD_SYSTEM_UNAVAILABLE',
    );
    assert.equal((await findingOf(base)).status, 'OPEN', 'tap again later');
    assert.deepEqual(await auditOf(outTradeNo), []);
    await stack.cardsys.control.clearFaults();
    const done = await repairFinding(deps(), TEST_OPERATOR, stack.school.id, { id, repair: 're-credit' });
    assert.equal(done.changed, true);
    assert.equal(await balance(), 900);
  });
});
