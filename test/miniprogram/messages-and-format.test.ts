import assert from 'node:assert/strict';
import { ERRORS } from '../../shared/errors.js';
import {
  BALANCE_UNAVAILABLE_ZH,
  RECHARGE_STATUS_EXPLANATIONS_ZH,
  RECHARGE_STATUS_LABELS_ZH,
  agreementStatusLabel,
  bindingStatusLabel,
  cardStatusLabel,
  deductionFailureReason,
  deductionStatusLabel,
  formatBalance,
  formatBeijingDate,
  formatBeijingDateTime,
  formatFen,
  formatSignedFen,
  rechargeStatusLabel,
  relationLabel,
  statementKindLabel,
} from '../../shared/format.js';
import {
  CLIENT_MESSAGES_ZH,
  ERROR_MESSAGES_ZH,
  FALLBACK_MESSAGE_ZH,
  messageForCode,
} from '../../shared/messages-zh.js';

const HAN = /[\u4e00-\u9fff]/;

describe('Chinese error messages (shared/messages-zh.ts)', () => {
  it('has a Chinese sentence for every error code of shared/errors.ts, and nothing else', () => {
    assert.deepEqual(Object.keys(ERROR_MESSAGES_ZH).sort(), Object.keys(ERRORS).sort());
    for (const [code, sentence] of Object.entries(ERROR_MESSAGES_ZH)) {
      assert.match(sentence, HAN, `${code} reads ${sentence}`);
      assert.doesNotMatch(sentence, /[A-Za-z]{3,}/, `${code} shows English to a student: ${sentence}`);
    }
  });

  it('answers a code with its sentence, client codes included, and anything unknown with the fallback', () => {
    assert.equal(messageForCode('CARD_NAME_MISMATCH'), ERROR_MESSAGES_ZH.CARD_NAME_MISMATCH);
    assert.equal(messageForCode('NETWORK_ERROR'), CLIENT_MESSAGES_ZH.NETWORK_ERROR);
    assert.equal(messageForCode('SOMETHING_NEW'), FALLBACK_MESSAGE_ZH);
    assert.equal(messageForCode('toString'), FALLBACK_MESSAGE_ZH);
    assert.equal(messageForCode(undefined), FALLBACK_MESSAGE_ZH);
    assert.match(FALLBACK_MESSAGE_ZH, HAN);
  });
});

describe('money and time display (shared/format.ts)', () => {
  it('shows fen as yuan with two decimals, signed for statement rows', () => {
    assert.equal(formatFen(5000), '¥50.00');
    assert.equal(formatSignedFen(5000), '+¥50.00');
    assert.equal(formatSignedFen(-350), '-¥3.50');
    assert.equal(formatSignedFen(1), '+¥0.01');
  });

  it('says the balance is unavailable instead of showing ¥0.00 when the card system did not answer', () => {
    assert.equal(formatBalance(12345), '¥123.45');
    assert.equal(formatBalance(0), '¥0.00');
    assert.equal(formatBalance(null), BALANCE_UNAVAILABLE_ZH);
    assert.equal(formatBalance(undefined), '余额暂不可用');
  });

  it('shows instants in Beijing time (UTC+8 from the instant, not the device zone), across midnight', () => {
    assert.equal(formatBeijingDateTime('2024-08-31T16:30:05Z'), '2024-09-01 00:30');
    assert.equal(formatBeijingDateTime('2024-08-31T16:30:05Z', { seconds: true }), '2024-09-01 00:30:05');
    assert.equal(formatBeijingDateTime('2024-09-01T12:00:00+08:00'), '2024-09-01 12:00');
    assert.equal(formatBeijingDate('2024-12-31T16:00:00.000Z'), '2025-01-01');
    assert.equal(formatBeijingDateTime(null), '—');
    assert.equal(formatBeijingDateTime('not a date'), '—');
  });
});

describe('status labels (shared/format.ts)', () => {
  it('names every binding, card, agreement, deduction and statement state in Chinese', () => {
    for (const label of [
      bindingStatusLabel('ACTIVE'),
      bindingStatusLabel('LOST'),
      bindingStatusLabel('UNBOUND'),
      cardStatusLabel('FROZEN'),
      agreementStatusLabel('NONE'),
      agreementStatusLabel('PENDING'),
      agreementStatusLabel('ACTIVE'),
      agreementStatusLabel('UNSIGNED'),
      agreementStatusLabel('FAILED'),
      deductionStatusLabel('RETRYING'),
      deductionStatusLabel('ARREARS'),
      deductionStatusLabel('SETTLED'),
      relationLabel('PARENT'),
      statementKindLabel('WITHHOLDING'),
    ]) {
      assert.match(label, HAN);
    }
    assert.equal(relationLabel('SELF'), '本人');
    assert.equal(relationLabel('PARENT'), '家长');
    assert.equal(bindingStatusLabel('LOST'), '已挂失');
  });

  it('explains each recharge state the way the result page promises', () => {
    assert.equal(rechargeStatusLabel('CREATED'), '等待支付确认');
    assert.equal(rechargeStatusLabel('PAID'), '已支付，正在入账');
    assert.equal(rechargeStatusLabel('CREDITED'), '已到账');
    assert.equal(rechargeStatusLabel('CREDIT_FAILED'), '入账失败，学校将为您处理/退款');
    assert.equal(rechargeStatusLabel('CLOSED'), '订单已关闭');
    assert.equal(rechargeStatusLabel('REFUNDED'), '已退款');
    assert.deepEqual(Object.keys(RECHARGE_STATUS_EXPLANATIONS_ZH), Object.keys(RECHARGE_STATUS_LABELS_ZH));
  });

  it('shows an unknown state as itself rather than nothing', () => {
    assert.equal(rechargeStatusLabel('SOMETHING_NEW'), 'SOMETHING_NEW');
    assert.equal(rechargeStatusLabel(null), '—');
  });

  it('explains why Alipay did not pay a swipe, however Alipay spelled the code', () => {
    assert.equal(deductionFailureReason('ACQ.BUYER_BALANCE_NOT_ENOUGH'), '支付宝余额不足');
    assert.equal(deductionFailureReason('BUYER_BALANCE_NOT_ENOUGH'), '支付宝余额不足');
    assert.equal(deductionFailureReason('ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH'), '银行卡余额不足');
    assert.equal(deductionFailureReason('AGREEMENT_NOT_EXSIT'), '免密代扣协议已失效');
    assert.equal(deductionFailureReason('ACQ.AGREEMENT_HAS_UNSIGNED'), '免密代扣协议已失效');
    assert.equal(deductionFailureReason('AQC.SYSTEM_ERROR'), '支付宝暂时没有响应');
    assert.equal(deductionFailureReason('ACQ.SOMETHING_ELSE'), '支付宝扣款没有成功');
    assert.equal(deductionFailureReason(null), '支付宝扣款没有成功');
  });
});
