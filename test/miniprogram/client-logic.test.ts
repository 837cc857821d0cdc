import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { builtMiniprogram } from './support/build.js';

/** The mini-program's plain modules, as built (CommonJS), exercised directly. */
async function builtModule(relative: string): Promise<any> {
  const build = await builtMiniprogram();
  return createRequire(path.join(build.outDir, 'app.js'))(relative);
}

describe('recharge amounts (view-models/recharge)', () => {
  let recharge: any;
  const limits = { minFen: 100, maxFen: 50_000 };

  before(async function () {
    this.timeout(120_000);
    recharge = await builtModule('./view-models/recharge.js');
  });

  it('turns typed yuan into exact integer fen, never through floating point', () => {
    assert.deepEqual(recharge.parseAmountInput('50', limits), { amountFen: 5000, error: '' });
    assert.deepEqual(recharge.parseAmountInput('12.5', limits), { amountFen: 1250, error: '' });
    assert.deepEqual(recharge.parseAmountInput('0.29', { minFen: 1, maxFen: 100 }), {
      amountFen: 29,
      error: '',
    });
    assert.deepEqual(recharge.parseAmountInput('19.99', limits), { amountFen: 1999, error: '' });
    assert.deepEqual(recharge.parseAmountInput(' 100.10 ', limits), { amountFen: 10010, error: '' });
  });

  it('refuses more than two decimals, signs, exponents, zero and text, in Chinese', () => {
    for (const text of ['1.234', '-5', '1e3', 'abc', '5元', '.5']) {
      const { amountFen, error } = recharge.parseAmountInput(text, limits);
      assert.equal(amountFen, 0, text);
      assert.equal(error, '请输入正确的金额，最多两位小数', text);
    }
    assert.equal(recharge.parseAmountInput('0', limits).error, '充值金额需大于 0');
    assert.equal(recharge.parseAmountInput('0.00', limits).error, '充值金额需大于 0');
    assert.deepEqual(recharge.parseAmountInput('', limits), { amountFen: 0, error: '' });
  });

  it("keeps the amount within the school's recharge range", () => {
    assert.equal(recharge.parseAmountInput('0.50', limits).error, '单笔最少充值 ¥1.00');
    assert.equal(recharge.parseAmountInput('500.01', limits).error, '单笔最多充值 ¥500.00');
    assert.equal(recharge.parseAmountInput('500', limits).error, '');
    const presets = recharge.presetButtons({ minFen: 100, maxFen: 10_000 }, 5000);
    assert.deepEqual(
      presets.map((preset: any) => [preset.label, preset.disabled, preset.buttonType]),
      [
        ['20 元', false, 'default'],
        ['50 元', false, 'primary'],
        ['100 元', false, 'default'],
        ['200 元', true, 'default'],
      ],
    );
  });

  it('treats CREATED and PAID as still moving and the other states as settled', () => {
    assert.deepEqual(
      ['CREATED', 'PAID', 'CREDITED', 'CREDIT_FAILED', 'CLOSED', 'REFUNDED'].map(recharge.isRechargeSettled),
      [false, false, true, true, true, true],
    );
  });
});

describe('bind form rules (view-models/bind-form)', () => {
  let form: any;

  before(async function () {
    this.timeout(120_000);
    form = await builtModule('./view-models/bind-form.js');
  });

  const proof = { proofKind: 'STUDENT_NO', proofValue: 'S1' };

  it('requires a card number of 4–32 digits or letters and a holder name of 1–32 characters', () => {
    assert.deepEqual(form.validateBindForm({ cardNo: '', holderName: '', ...proof }), {
      cardNoError: '请输入校园卡号',
      holderNameError: '请输入持卡人姓名',
      proofError: '',
    });
    assert.equal(
      form.validateBindForm({ cardNo: '123', holderName: '张三', ...proof }).cardNoError,
      '卡号为 4–32 位数字或字母',
    );
    assert.equal(
      form.validateBindForm({ cardNo: '12-34', holderName: '张三', ...proof }).cardNoError,
      '卡号为 4–32 位数字或字母',
    );
    assert.equal(
      form.validateBindForm({ cardNo: 'A'.repeat(33), holderName: '张三', ...proof }).cardNoError,
      '卡号为 4–32 位数字或字母',
    );
    assert.equal(
      form.validateBindForm({ cardNo: '2024A001', holderName: '名'.repeat(33), ...proof }).holderNameError,
      '姓名最多 32 个字',
    );
    assert.deepEqual(form.validateBindForm({ cardNo: ' 2024A001 ', holderName: ' 张三 ', ...proof }), {
      cardNoError: '',
      holderNameError: '',
      proofError: '',
    });
  });

  it('checks the ID number (whole, with its GB 11643 check digit, or the last 6), the phone and the student number', () => {
    const check = (proofKind: string, proofValue: string) =>
      form.validateBindForm({ cardNo: '20240001', holderName: '张三', proofKind, proofValue }).proofError;
    assert.equal(check('ID_NUMBER', ''), '请输入身份证号');
    assert.equal(check('ID_NUMBER', '11010519491231002X'), '');
    assert.equal(check('ID_NUMBER', '11010519491231002x'), '');
    assert.equal(check('ID_NUMBER', '110105194912310021'), '请输入 18 位身份证号（校验位正确）或最后 6 位');
    assert.equal(check('ID_NUMBER', '31002x'), '');
    assert.equal(check('ID_NUMBER', '3100'), '请输入 18 位身份证号（校验位正确）或最后 6 位');
    assert.equal(check('PHONE', '+86 138-0013-8000'), '');
    assert.equal(check('PHONE', '2380013800'), '请输入 11 位手机号');
    assert.equal(check('STUDENT_NO', ''), '请输入学号');
    assert.deepEqual(form.proofField('ID_NUMBER', ' 31002x '), { idNumber: '31002X' });
    assert.deepEqual(form.proofField('PHONE', '+86 138 0013 8000'), { phone: '13800138000' });
  });

  it('counts a name in characters, so rare characters outside the BMP are not counted twice', () => {
    assert.equal(
      form.validateBindForm({ cardNo: '20240001', holderName: '𠀀'.repeat(32), ...proof }).holderNameError,
      '',
    );
  });

  it('shows each card-system refusal under the input it concerns', () => {
    assert.equal(form.fieldOfBindError('CARD_NAME_MISMATCH'), 'holderName');
    assert.equal(form.fieldOfBindError('CARD_NOT_FOUND'), 'cardNo');
    assert.equal(form.fieldOfBindError('CARD_NOT_NORMAL'), 'cardNo');
    assert.equal(form.fieldOfBindError('BINDING_EXISTS'), 'form');
    assert.equal(form.fieldOfBindError('VALIDATION_FAILED', 'body.name'), 'holderName');
    assert.equal(form.fieldOfBindError('VALIDATION_FAILED', 'body.cardNo'), 'cardNo');
    assert.equal(form.fieldOfBindError('VALIDATION_FAILED', 'body.relation'), 'form');
    assert.equal(form.fieldOfBindError('NETWORK_ERROR'), 'form');
  });
});

describe('cashier and signing result codes (services/payment-results)', () => {
  let results: any;

  before(async function () {
    this.timeout(120_000);
    results = await builtModule('./services/payment-results.js');
  });

  it('asks the server whenever money may have moved: 9000, 8000, 6002, 6004 and unknown codes', () => {
    for (const code of ['9000', '8000', '6002', '6004', '12345']) {
      assert.equal(results.tradePayVerdict(code).checkServer, true, code);
    }
  });

  it('stays on the page when nothing was paid: 6001 cancelled, 99 left, 4000 failed', () => {
    assert.deepEqual(
      ['6001', '99', '4000'].map((code) => [
        results.tradePayVerdict(code).outcome,
        results.tradePayVerdict(code).checkServer,
      ]),
      [
        ['CANCELLED', false],
        ['CANCELLED', false],
        ['FAILED', false],
      ],
    );
    assert.equal(results.tradePayVerdict('6001').message, '您已取消支付，没有扣款');
  });

  it('confirms a signature with the server for 7000, 7001 and 6002, not for 7002 or 6001', () => {
    assert.deepEqual(
      ['7000', '7001', '6002', '7002', '6001'].map((status) => results.paySignVerdict(status).checkServer),
      [true, true, true, false, false],
    );
    assert.equal(results.paySignVerdict('6001').outcome, 'CANCELLED');
    assert.equal(results.paySignVerdict('7002').outcome, 'FAILED');
  });
});

describe('polling with a deadline (services/poll)', () => {
  let poll: any;

  before(async function () {
    this.timeout(120_000);
    poll = await builtModule('./services/poll.js');
  });

  it('stops as soon as the answer is final, reporting each answer on the way', async () => {
    let calls = 0;
    const seen: number[] = [];
    const outcome = await poll.pollUntil(
      async () => ++calls,
      (value: number) => value === 3,
      { intervalMs: 1, timeoutMs: 5000 },
      (value: number) => seen.push(value),
    );
    assert.deepEqual(outcome, { value: 3, done: true, stopped: false, error: null });
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('rides over a failed attempt and gives up at the deadline with the last answer', async () => {
    let calls = 0;
    const outcome = await poll.pollUntil(
      async () => {
        calls += 1;
        if (calls === 2) throw new Error('dropped');
        return 'PAID';
      },
      (value: string) => value === 'CREDITED',
      { intervalMs: 5, timeoutMs: 60 },
    );
    assert.equal(outcome.done, false);
    assert.equal(outcome.value, 'PAID');
    assert.ok(calls > 2);
  });

  it('stops when the page is gone', async () => {
    let calls = 0;
    const outcome = await poll.pollUntil(
      async () => ++calls,
      () => false,
      { intervalMs: 1, timeoutMs: 5000, isStopped: () => calls >= 2 },
    );
    assert.equal(outcome.stopped, true);
    assert.equal(calls, 2);
  });
});

describe('which card opens (view-models/cards)', () => {
  let cards: any;
  const binding = (id: string, status = 'ACTIVE') => ({
    id,
    status,
    cardNo: `2024000${id}`,
    holderName: '张三',
  });

  before(async function () {
    this.timeout(120_000);
    cards = await builtModule('./view-models/cards.js');
  });

  it('opens the wanted card, else the remembered one, else the first; never an unbound one', () => {
    const bindings = [binding('1', 'UNBOUND'), binding('2'), binding('3', 'LOST')];
    assert.equal(cards.chooseCard(bindings, '3', '2'), '3');
    assert.equal(cards.chooseCard(bindings, '1', '2'), '2');
    assert.equal(cards.chooseCard(bindings, null, null), '2');
    assert.equal(cards.chooseCard([binding('1', 'UNBOUND')], '1'), null);
  });

  it('says the balance is unavailable, not ¥0.00, when the card system did not answer', () => {
    const home = cards.toCardHome({
      ...binding('2'),
      school: { id: 's', name: '测试大学' },
      relation: 'PARENT',
      identity: 'STUDENT',
      approval: 'APPROVED',
      proof: 'STUDENT_NO',
      isWithholdingPayer: false,
      lowBalanceFen: null,
      createdAt: '2024-09-01T00:00:00Z',
      balanceFen: null,
      cardStatus: null,
      balanceUnavailable: true,
      canCancelLoss: false,
    });
    assert.equal(home.balanceText, '余额暂不可用');
    assert.equal(home.relationLabel, '家长');
  });
});
