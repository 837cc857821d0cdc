import assert from 'node:assert/strict';
import { bodyToStore, notificationValues } from '../../server/src/db/repos/notify/notify-log.js';

/** A form shaped like a paid notification, with what a forger could add. */
function paidForm(extra: Record<string, string> = {}): Record<string, string> {
  return {
    gmt_create: '2026-12-08 03:11:19',
    charset: 'utf-8',
    subject: '压测售货机 可乐',
    notify_type: 'trade_status_sync',
    trade_status: 'TRADE_SUCCESS',
    out_trade_no: 'T202612080311191234567890123456Q',
    total_amount: '3.00',
    sign: 'A'.repeat(344),
    ...extra,
  };
}

describe('notify_log values of a notification recorded in one statement', () => {
  const at = new Date('2026-12-08T03:11:19.123Z');
  const entry = (form: Record<string, string>, isVerified: boolean) => ({
    form,
    isVerified,
    outcome: 'APPLIED' as const,
    detail: 'PAID',
    at,
  });

  it('stores the body as bodyToStore keeps it, NULs, number-like keys and unverified summaries included', () => {
    const withProto = paidForm();
    Object.defineProperty(withProto, '__proto__', { value: 'x', enumerable: true });
    const forms = [
      paidForm(),
      paidForm({ '10': 'ten', '2': 'two', 'a\u0000b': 'c', d: 'e\u0000f' }),
      paidForm({ 'a\u0000': '1', 'a\uFFFD': '2' }),
      paidForm({ body: '{"quoted":"\\"x\\""}', emoji: '😀\u2028' }),
      withProto,
      {},
    ];
    for (const form of forms)
      for (const isVerified of [true, false]) {
        const values = notificationValues(entry(form, isVerified));
        assert.equal(values.log_body, JSON.stringify(bodyToStore(form, isVerified)));
      }
  });

  it('fills every column of the entry under its log_ name', () => {
    const values = notificationValues(entry(paidForm({ notify_id: 'N1', app_id: '2021' }), true));
    assert.deepEqual(Object.keys(values).sort(), [
      'log_appId',
      'log_body',
      'log_detail',
      'log_isVerified',
      'log_notifyId',
      'log_notifyType',
      'log_outTradeNo',
      'log_outcome',
      'log_receivedAt',
    ]);
    assert.equal(values.log_receivedAt, at);
    assert.equal(values.log_notifyType, 'trade_status_sync');
    assert.equal(values.log_notifyId, 'N1');
    assert.equal(values.log_outTradeNo, 'T202612080311191234567890123456Q');
    assert.equal(values.log_appId, '2021');
    assert.equal(values.log_isVerified, true);
    assert.equal(values.log_outcome, 'APPLIED');
    assert.equal(values.log_detail, 'PAID');
  });
});
