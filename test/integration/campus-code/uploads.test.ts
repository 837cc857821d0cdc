import assert from 'node:assert/strict';
import { suspendSchool } from '../../../server/src/domain/schools/school-lifecycle.js';
import { uploadCampusCodePayments } from '../../../server/src/domain/campus-code/uploads.js';
import { TEST_OPERATOR } from '../../support/admins.js';
import type { CampusCodeUploadAnswer } from '../../../shared/gateway-api.js';
import { startStack, type Stack } from '../../support/stack.js';
import { gatewayFor, type Gateway } from '../withholding/helpers.js';
import { deviceTxnNo, offlineCode, uploadBatch } from './helpers.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Devices upload offline campus-code payments (seed 001 §4, DESIGN §6.2, §7.5): every payment of a batch is
 * answered on its own, a txnNo always gets its first answer, and a code is accepted once from any device.
 */
describe('campus-code uploads from campus devices', () => {
  let stack: Stack;
  let device: Gateway;
  // Uploads are charged by the drainer in the background; these codes are unknown to Alipay (FAILED),
  // which does not matter for what the uploads answer.
  const code = (options: Parameters<typeof offlineCode>[1] = {}, identity = {}) =>
    offlineCode({ schoolCode: stack.school.code, ...identity }, options);
  const upload = async (payments: ReturnType<typeof code>[], from = device) => {
    const res = await uploadBatch(from, payments);
    assert.equal(res.status, 200, res.text);
    return res.body as CampusCodeUploadAnswer;
  };

  before(async function () {
    // Starting the stack (PostgreSQL, sandboxes, server) takes longer than a test on a busy machine.
    this.timeout(120_000);
    stack = await startStack();
    device = await gatewayFor(stack);
  });
  after(() => stack.stop());

  it('accepts a code of its school and answers a repeat of the txnNo with the first answer', async () => {
    const payment = code();
    const [first] = (await upload([payment])).results;
    assert.equal(first.result, 'ACCEPTED');
    assert.match(first.paymentNo!, /^C\d{30}$/);
    assert.equal(first.late, false);
    const [again] = (await upload([payment])).results;
    assert.deepEqual(again, { ...first, result: 'DUPLICATE', firstResult: 'ACCEPTED', status: again.status });
    const detail = await device.get(`/gateway/v1/campus-code/payments/${payment.txnNo}`);
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.paymentNo, first.paymentNo);
    assert.equal(detail.body.result, 'ACCEPTED');
    assert.equal(detail.body.amountFen, payment.amountFen);
  });

  it('accepts a code once across devices: a second device gets DUPLICATE_CODE, and so does its repeat', async () => {
    const other = await gatewayFor(stack);
    const payment = code();
    assert.equal((await upload([payment])).results[0].result, 'ACCEPTED');
    const elsewhere = { ...payment, txnNo: deviceTxnNo(), terminalId: 'POS-CC-02' };
    const [second] = (await upload([elsewhere], other)).results;
    assert.equal(second.result, 'DUPLICATE_CODE');
    assert.equal(second.status, 'DUPLICATE_CODE');
    const [repeat] = (await upload([elsewhere], other)).results;
    assert.deepEqual([repeat.result, repeat.firstResult], ['DUPLICATE', 'DUPLICATE_CODE']);
  });

  it('answers a mixed batch one payment at a time', async () => {
    const truncated = code();
    truncated.userData = Buffer.from(truncated.userData, 'base64').subarray(0, 12).toString('base64');
    const badName = code();
    const bytes = Buffer.from(badName.userData, 'base64');
    bytes[bytes.length - 2] = 0xff; // the last byte of the GB2312 name
    badName.userData = bytes.toString('base64');
    const batch = [
      code(),
      code({ madeAt: new Date(Date.now() - 25 * HOUR_MS) }),
      code({ madeAt: new Date(Date.now() - 11 * DAY_MS) }),
      truncated,
      badName,
      { ...code(), templateId: 7 },
      { ...code(), encodeType: 'BIG5' },
      code({}, { schoolCode: '1234567890' }),
      code({ amountFen: stack.school.campusCodeMaxFen + 1 }),
      code({ scannedAt: new Date(Date.now() + HOUR_MS) }),
      code({ templateId: 5, encodeType: 'UTF-8' }),
    ];
    const answer = await upload(batch);
    assert.deepEqual(
      answer.results.map((r) => [r.result, r.reason ?? null, r.late]),
      [
        ['ACCEPTED', null, false],
        ['ACCEPTED', null, true],
        ['EXPIRED', null, true],
        ['REJECTED', 'USER_DATA_TRUNCATED', false],
        ['REJECTED', 'BAD_STUDENT_NAME', false],
        ['REJECTED', 'UNKNOWN_TEMPLATE', false],
        ['REJECTED', 'UNKNOWN_ENCODE_TYPE', false],
        ['REJECTED', 'OTHER_SCHOOL', false],
        ['REJECTED', 'AMOUNT_OUT_OF_LIMITS', false],
        ['REJECTED', 'BAD_SCANNED_AT', false],
        ['ACCEPTED', null, false],
      ],
    );
    // A first answer names the status its payment was stored with, and only a repeat names a first result.
    assert.deepEqual(
      answer.results.map((r) => [r.status, 'firstResult' in r]),
      answer.results.map((r) => [r.result === 'ACCEPTED' ? 'PENDING' : r.result, false]),
    );
    assert.deepEqual(answer.counts, {
      ACCEPTED: 3,
      DUPLICATE: 0,
      DUPLICATE_CODE: 0,
      EXPIRED: 1,
      REJECTED: 7,
    });
    assert.deepEqual(
      answer.results.map((r) => r.txnNo),
      batch.map((p) => p.txnNo),
    );
    const again = await upload(batch);
    assert.deepEqual(
      again.results.map((r) => r.firstResult),
      answer.results.map((r) => r.result),
    );
  });

  it('draws each line exactly: the maximum amount, 5 minutes of device clock ahead, the late hours, the window days', async () => {
    const now = new Date(Date.now() - HOUR_MS);
    // Uploaded at `now` exactly (the BFF's clock fixed for this batch).
    const at = { ...stack.app.deps, clock: { now: () => now } };
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const {
      campusCodeMaxFen: max,
      campusCodeLateAfterHours: lateHours,
      campusCodeWindowDays: days,
    } = stack.school;
    const window = days * DAY_MS;
    const batch = [
      code({ madeAt: ago(60_000), amountFen: max }),
      code({ madeAt: ago(60_000), amountFen: max + 1 }),
      code({ madeAt: ago(60_000), scannedAt: new Date(now.getTime() + 5 * 60_000) }),
      code({ madeAt: ago(60_000), scannedAt: new Date(now.getTime() + 5 * 60_000 + 1) }),
      code({ madeAt: ago(lateHours * HOUR_MS) }),
      code({ madeAt: ago(lateHours * HOUR_MS + 1) }),
      code({ madeAt: ago(window), scannedAt: ago(window - 1_000) }),
      code({ madeAt: ago(window + 1), scannedAt: ago(window - 1_000) }),
      // Scanned (by the device's clock) before the code says it was made: the older of the two counts.
      code({ madeAt: ago(DAY_MS), scannedAt: ago(window + 1) }),
    ];
    const answer = await uploadCampusCodePayments(
      at,
      { clientId: device.clientId, schoolId: stack.school.id },
      batch,
    );
    assert.deepEqual(
      answer.results.map((r) => [r.result, r.reason ?? null, r.late]),
      [
        ['ACCEPTED', null, false],
        ['REJECTED', 'AMOUNT_OUT_OF_LIMITS', false],
        ['ACCEPTED', null, false],
        ['REJECTED', 'BAD_SCANNED_AT', false],
        ['ACCEPTED', null, false],
        ['ACCEPTED', null, true],
        ['ACCEPTED', null, true],
        ['EXPIRED', null, true],
        ['EXPIRED', null, false],
      ],
    );
    assert.deepEqual(answer.counts, {
      ACCEPTED: 5,
      DUPLICATE: 0,
      DUPLICATE_CODE: 0,
      EXPIRED: 2,
      REJECTED: 2,
    });
    const { rows } = await stack.app.deps.pool.query(
      'select txn_no, status, final_data_enc is not null as has_code from campus_code_payments where txn_no = any($1)',
      [batch.map((p) => p.txnNo)],
    );
    const stored = new Map(
      rows.map((r) => [r.txn_no as string, [r.status as string, r.has_code as boolean]]),
    );
    // Only an accepted payment keeps the code it will be charged with.
    assert.deepEqual(stored.get(batch[1].txnNo), ['REJECTED', false]);
    assert.deepEqual(stored.get(batch[7].txnNo), ['EXPIRED', false]);
  });

  it('refuses a txnNo used again for another code or amount (TXN_CONFLICT), and answers a repeat inside one batch', async () => {
    const payment = code();
    const answer = await upload([payment, payment, { ...payment, amountFen: payment.amountFen + 1 }]);
    assert.deepEqual(
      answer.results.map((r) => [r.result, r.reason ?? null]),
      [
        ['ACCEPTED', null],
        ['DUPLICATE', null],
        ['REJECTED', 'TXN_CONFLICT'],
      ],
    );
    const [later] = (await upload([{ ...code(), txnNo: payment.txnNo }])).results;
    assert.deepEqual([later.result, later.reason, later.paymentNo], ['REJECTED', 'TXN_CONFLICT', undefined]);
  });

  it('answers a repeat inside one batch of a payment whose code was taken before with DUPLICATE_CODE', async () => {
    const taken = code();
    assert.equal((await upload([taken])).results[0].result, 'ACCEPTED');
    const elsewhere = { ...taken, txnNo: deviceTxnNo(), terminalId: 'POS-CC-02' };
    const answer = await upload([code(), elsewhere, elsewhere]);
    assert.deepEqual(
      answer.results.map((r) => [r.txnNo, r.result, r.firstResult ?? null, r.status]),
      [
        [answer.results[0].txnNo, 'ACCEPTED', null, 'PENDING'],
        [elsewhere.txnNo, 'DUPLICATE_CODE', null, 'DUPLICATE_CODE'],
        [elsewhere.txnNo, 'DUPLICATE', 'DUPLICATE_CODE', 'DUPLICATE_CODE'],
      ],
    );
    assert.equal(answer.results[2].paymentNo, answer.results[1].paymentNo);
  });

  it('accepts each payment exactly once when 100 uploads of one batch race', async () => {
    const batch = Array.from({ length: 20 }, () => code());
    const answers = await Promise.all(Array.from({ length: 100 }, () => upload(batch)));
    for (const [i, payment] of batch.entries()) {
      const results = answers.map((a) => a.results[i]);
      assert.equal(
        results.filter((r) => r.result === 'ACCEPTED').length,
        1,
        `${payment.txnNo} accepted once`,
      );
      assert.ok(results.every((r) => r.result === 'ACCEPTED' || r.firstResult === 'ACCEPTED'));
      assert.equal(new Set(results.map((r) => r.paymentNo)).size, 1);
    }
    const { rows } = await stack.app.deps.pool.query(
      'select count(*)::int as n from campus_code_payments where txn_no = any($1)',
      [batch.map((p) => p.txnNo)],
    );
    assert.equal(rows[0].n, batch.length);
  });

  it('stores a payment whose code was taken once as DUPLICATE_CODE when its batch races, and answers each upload so', async () => {
    const taken = Array.from({ length: 20 }, () => code());
    assert.equal((await upload(taken)).counts.ACCEPTED, taken.length);
    const other = await gatewayFor(stack);
    const batch = taken.map((p) => ({ ...p, txnNo: deviceTxnNo(), terminalId: 'POS-CC-02' }));
    const answers = await Promise.all(Array.from({ length: 50 }, () => upload(batch, other)));
    for (const [i, payment] of batch.entries()) {
      const results = answers.map((a) => a.results[i]);
      assert.equal(
        results.filter((r) => r.result === 'DUPLICATE_CODE').length,
        1,
        `${payment.txnNo} stored once`,
      );
      assert.ok(
        results.every((r) => r.result === 'DUPLICATE_CODE' || r.firstResult === 'DUPLICATE_CODE'),
        `${payment.txnNo}: ${JSON.stringify(results.map((r) => [r.result, r.firstResult]))}`,
      );
      assert.equal(new Set(results.map((r) => r.paymentNo)).size, 1);
    }
  });

  it('accepts one code once when two devices upload it at the same moment', async () => {
    const other = await gatewayFor(stack);
    const payments = Array.from({ length: 10 }, () => code());
    const [mine, theirs] = await Promise.all([
      upload(payments),
      upload(
        payments.map((p) => ({ ...p, txnNo: deviceTxnNo() })),
        other,
      ),
    ]);
    for (let i = 0; i < payments.length; i += 1) {
      const pair = [mine.results[i].result, theirs.results[i].result].sort();
      assert.deepEqual(pair, ['ACCEPTED', 'DUPLICATE_CODE']);
    }
  });

  it('takes a full batch of 500 (beyond the usual body limit) and refuses 501 naming the field', async () => {
    const full = Array.from({ length: 500 }, () => code());
    assert.equal((await upload(full)).counts.ACCEPTED, 500);
    const tooMany = await uploadBatch(device, [...full, code()]);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.field, 'body.payments');
  });

  it('refuses a malformed payment with a 400 naming the field, and stores nothing of the batch', async () => {
    const good = code();
    const res = await uploadBatch(device, [good, { ...code(), amountFen: '12.50' } as never]);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'body.payments.1.amountFen');
    const detail = await device.get(`/gateway/v1/campus-code/payments/${good.txnNo}`);
    assert.equal(detail.status, 404);
    assert.equal(detail.body.error.code, 'CAMPUS_CODE_PAYMENT_NOT_FOUND');
  });

  it('refuses a replayed upload (same nonce) with 401', async () => {
    const body = { payments: [code()] };
    const nonce = `n${Date.now()}replay`;
    assert.equal((await device.post('/gateway/v1/campus-code/payments', body, { nonce })).status, 200);
    assert.equal((await device.post('/gateway/v1/campus-code/payments', body, { nonce })).status, 401);
  });

  it('rejects every payment of a school that is not active (SCHOOL_SUSPENDED)', async () => {
    const school = await stack.addSchool();
    const its = await gatewayFor(stack, school.id);
    await suspendSchool(stack.app.deps, TEST_OPERATOR, school.id, 'test');
    const [answer] = (await upload([offlineCode({ schoolCode: school.code })], its)).results;
    assert.deepEqual([answer.result, answer.reason], ['REJECTED', 'SCHOOL_SUSPENDED']);
  });
});
