import assert from 'node:assert/strict';
import type { AlipaySdk } from 'alipay-sdk';
import {
  newAppKeys,
  sdkFor,
  startNotifyReceiver,
  startTestSandbox,
  uniqueNo,
  waitFor,
  type AppKeys,
  type NotifyReceiver,
  type TestSandbox,
} from './support.js';

/** 60000× faster: Alipay's 4-minute retry comes after 4 ms, the whole 24h24m schedule in about 1.5 s. */
const TIME_SCALE = 60_000;
const SCHEDULE_MINUTES = [0, 4, 14, 24, 84, 204, 564, 1464];

describe('Alipay sandbox notifications: signed form POSTs, acknowledgement and retries', () => {
  let t: TestSandbox;
  let app: AppKeys;
  let sdk: AlipaySdk;
  const receivers: NotifyReceiver[] = [];

  before(async () => {
    app = newAppKeys();
    t = await startTestSandbox({
      apps: [{ appId: app.appId, publicKey: app.publicKey, idMode: 'open_id' }],
      notifyTimeScale: TIME_SCALE,
    });
    sdk = sdkFor(t.sandbox, app);
  });
  afterEach(() => t.control.clearFaults());
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await t.close();
  });

  async function receiver(answer?: Parameters<typeof startNotifyReceiver>[0]): Promise<NotifyReceiver> {
    const started = await startNotifyReceiver(answer);
    receivers.push(started);
    return started;
  }

  /** A paid trade whose trade_status_sync goes to `notifyUrl`. */
  async function paidTrade(
    notifyUrl: string,
    totalAmount = '1.00',
  ): Promise<{ outTradeNo: string; tradeNo: string }> {
    const user = await t.control.createUser({ balanceFen: 100_000 });
    const outTradeNo = uniqueNo('N');
    const created = await sdk.exec('alipay.trade.create', {
      notifyUrl,
      bizContent: {
        outTradeNo,
        totalAmount,
        subject: '通知测试 & = %',
        buyerOpenId: user.openIds[app.appId],
      },
    });
    await t.control.payTrade({ tradeNO: created.tradeNo, userId: user.userId });
    return { outTradeNo, tradeNo: created.tradeNo };
  }

  it('sends trade_status_sync that checkNotifySignV2 accepts, and rejects once any field is changed', async () => {
    const inbox = await receiver();
    const { outTradeNo } = await paidTrade(inbox.url, '12.30');
    const notice = await waitFor(
      () => inbox.received.find((n) => n.fields.out_trade_no === outTradeNo),
      'notify',
    );
    const { fields } = notice;
    assert.equal(fields.notify_type, 'trade_status_sync');
    assert.match(fields.notify_id, /^\d{34}$/);
    assert.equal(fields.app_id, app.appId);
    assert.equal(fields.auth_app_id, app.appId);
    assert.equal(fields.subject, '通知测试 & = %');
    assert.equal(fields.sign_type, 'RSA2');
    assert.deepEqual(JSON.parse(fields.fund_bill_list), [{ amount: '12.30', fundChannel: 'ALIPAYACCOUNT' }]);
    assert.ok(sdk.checkNotifySignV2(fields));
    assert.equal(sdk.checkNotifySignV2({ ...fields, total_amount: '0.01' }), false);
    assert.equal(
      sdk.checkNotifySignV2({ ...fields, sign: fields.sign.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }),
      false,
    );
  });

  it('stops retrying at the first exact `success`, keeping the same notify_id on every attempt', async () => {
    const inbox = await receiver((_fields, seenBefore) => ({ body: seenBefore < 2 ? 'fail' : 'success' }));
    const { tradeNo } = await paidTrade(inbox.url);
    const [record] = await t.control.waitForNotifications({ tradeNo });
    assert.equal(record.status, 'acknowledged');
    assert.deepEqual(
      record.attempts.map((a) => [a.attempt, a.answer, a.acknowledged]),
      [
        [1, 'fail', false],
        [2, 'fail', false],
        [3, 'success', true],
      ],
    );
    const copies = inbox.received.filter((n) => n.fields.trade_no === tradeNo);
    assert.equal(copies.length, 3);
    assert.equal(new Set(copies.map((n) => n.fields.notify_id)).size, 1);
  });

  it('counts only the exact 7-character body `success` with HTTP 200 as an acknowledgement', async () => {
    const answers = [
      { body: 'SUCCESS' },
      { body: 'success\n' },
      { status: 500, body: 'success' },
      { body: ' success' },
      { body: 'success' },
    ];
    const inbox = await receiver((_fields, seenBefore) => answers[seenBefore]);
    const { tradeNo } = await paidTrade(inbox.url);
    const [record] = await t.control.waitForNotifications({ tradeNo });
    assert.deepEqual(
      record.attempts.map((a) => a.acknowledged),
      [false, false, false, false, true],
    );
    assert.equal(record.attempts[2].httpStatus, 500);
  });

  it("follows Alipay's schedule (t0, +4m, +14m, +24m, +1h24m, +3h24m, +9h24m, +24h24m) and then gives up", async () => {
    const inbox = await receiver(() => ({ body: 'fail' }));
    const { tradeNo } = await paidTrade(inbox.url);
    const [record] = await t.control.waitForNotifications(
      { tradeNo },
      (list) => list[0]?.status === 'failed',
      {
        timeoutMs: 10_000,
      },
    );
    const planned = SCHEDULE_MINUTES.map((minutes) => (minutes * 60_000) / TIME_SCALE);
    assert.deepEqual(
      record.attempts.map((a) => a.plannedOffsetMs),
      planned,
    );
    const firstPlanned = Date.parse(record.attempts[0].scheduledAt);
    record.attempts.forEach((attempt, index) => {
      assert.equal(
        Date.parse(attempt.scheduledAt) - firstPlanned,
        planned[index],
        `attempt ${index + 1} planned`,
      );
      assert.ok(
        Date.parse(attempt.sentAt!) >= Date.parse(attempt.scheduledAt) - 1,
        `attempt ${index + 1} came early`,
      );
    });
    assert.equal(inbox.received.filter((n) => n.fields.trade_no === tradeNo).length, 8);
  });

  it('keeps retrying a receiver that is down, recording the connection error', async () => {
    const inbox = await receiver();
    const url = inbox.url;
    await inbox.close();
    const { tradeNo } = await paidTrade(url);
    const [record] = await t.control.waitForNotifications(
      { tradeNo },
      (list) => (list[0]?.attempts.length ?? 0) >= 2,
    );
    assert.ok(record.attempts[0].error);
    assert.equal(record.attempts[0].acknowledged, false);
  });

  describe('notification faults', () => {
    it('duplicate: sends copies of the first attempt at once, with the same notify_id', async () => {
      const inbox = await receiver();
      await t.control.injectNotifyFault({ action: 'duplicate', copies: 3 });
      const { tradeNo } = await paidTrade(inbox.url);
      await t.control.waitForNotifications({ tradeNo });
      const copies = await waitFor(() => {
        const found = inbox.received.filter((n) => n.fields.trade_no === tradeNo);
        return found.length === 3 && found;
      }, 'three copies');
      assert.equal(new Set(copies.map((n) => n.fields.notify_id)).size, 1);
    });

    it('reorder: holds a notification back until the next one has been delivered', async () => {
      const inbox = await receiver();
      await t.control.injectNotifyFault({ action: 'reorder', holdMs: 5000 });
      const first = await paidTrade(inbox.url);
      const second = await paidTrade(inbox.url);
      await t.control.waitForNotifications({ tradeNo: first.tradeNo });
      const order = inbox.received
        .map((n) => n.fields.trade_no)
        .filter((no) => no === first.tradeNo || no === second.tradeNo);
      assert.deepEqual(order, [second.tradeNo, first.tradeNo]);
    });

    it('delay: the first attempt goes out only after delayMs', async () => {
      const inbox = await receiver();
      await t.control.injectNotifyFault({ action: 'delay', delayMs: 150 });
      const { tradeNo } = await paidTrade(inbox.url);
      const [record] = await t.control.waitForNotifications({ tradeNo });
      assert.ok(Date.parse(record.attempts[0].sentAt!) - Date.parse(record.createdAt) >= 145);
    });

    it('drop: never delivers by default; with attempts=N the first N are lost and the retry arrives', async () => {
      const inbox = await receiver();
      await t.control.injectNotifyFault({ action: 'drop', notifyType: 'trade_status_sync' });
      const lost = await paidTrade(inbox.url);
      const [dropped] = await t.control.notifications({ tradeNo: lost.tradeNo });
      assert.equal(dropped.status, 'dropped');
      assert.equal(dropped.attempts.length, 0);

      await t.control.injectNotifyFault({ action: 'drop', attempts: 2 });
      const late = await paidTrade(inbox.url);
      const [record] = await t.control.waitForNotifications({ tradeNo: late.tradeNo });
      assert.deepEqual(
        record.attempts.map((a) => [a.dropped ?? false, a.acknowledged]),
        [
          [true, false],
          [true, false],
          [false, true],
        ],
      );
      assert.equal(inbox.received.filter((n) => n.fields.trade_no === lost.tradeNo).length, 0);
    });

    it('tamper: sends a bad signature that checkNotifySignV2 rejects; the genuine retry is accepted', async () => {
      const inbox = await receiver((fields) => ({
        body: sdk.checkNotifySignV2(fields) ? 'success' : 'fail',
      }));
      await t.control.injectNotifyFault({ action: 'tamper', attempts: 1 });
      const { tradeNo } = await paidTrade(inbox.url);
      const [record] = await t.control.waitForNotifications({ tradeNo });
      assert.deepEqual(
        record.attempts.map((a) => [a.tampered ?? false, a.answer]),
        [
          [true, 'fail'],
          [false, 'success'],
        ],
      );
    });

    it('applies only to the next N notifications, or to a share of them with a rate', async () => {
      const inbox = await receiver();
      const fault = await t.control.injectNotifyFault({ action: 'drop', times: 1 });
      assert.equal(fault.remaining, 1);
      const hit = await paidTrade(inbox.url);
      const spared = await paidTrade(inbox.url);
      assert.equal((await t.control.notifications({ tradeNo: hit.tradeNo }))[0].status, 'dropped');
      await t.control.waitForNotifications({ tradeNo: spared.tradeNo });
      assert.deepEqual(await t.control.listFaults(), []);

      await t.control.injectNotifyFault({ action: 'drop', rate: 0.5, seed: 42 });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        const { tradeNo } = await paidTrade(inbox.url);
        outcomes.push((await t.control.notifications({ tradeNo }))[0].status);
      }
      const dropped = outcomes.filter((s) => s === 'dropped').length;
      assert.ok(dropped > 2 && dropped < 18, `dropped ${dropped} of 20`);
    });
  });
});
