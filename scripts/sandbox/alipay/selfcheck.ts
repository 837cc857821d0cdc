/**
 * `npm run sandbox:selfcheck`: starts a fresh sandbox in this process on a free port and drives a trade
 * lifecycle, a withholding lifecycle and a refund through the real alipay-sdk. Prints one `PASS <name>` or
 * `FAIL <name>: reason` line each and exits non-zero on any FAIL.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlipaySdk } from 'alipay-sdk';
import { AlipaySandboxControl } from './control-client.js';
import { createSandboxLogger } from './logger.js';
import { startAlipaySandbox } from './server.js';

process.env.TZ ??= 'Asia/Shanghai';

const APP_ID = '2021000000000001';

class CheckFailed extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  expect(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Answers `success` and keeps what it received, as the server's notify route would. */
async function startNotifyReceiver(): Promise<{
  url: string;
  received: Array<Record<string, string>>;
  close(): void;
}> {
  const received: Array<Record<string, string>> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(body)));
      res.end('success');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/notify/alipay`, received, close: () => server.close() };
}

async function main(): Promise<number> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const sandbox = await startAlipaySandbox({
    apps: [{ appId: APP_ID, publicKey, idMode: 'open_id' }],
    notifyTimeScale: 1000,
    logger: createSandboxLogger(process.env.LOG_LEVEL ?? 'error'),
  });
  const receiver = await startNotifyReceiver();
  const control = new AlipaySandboxControl(sandbox.url);
  const sdk = new AlipaySdk({
    appId: APP_ID,
    privateKey,
    keyType: 'PKCS8',
    alipayPublicKey: sandbox.alipayPublicKey,
    gateway: sandbox.gatewayUrl,
  });
  const exec = (method: string, params: Record<string, unknown>) =>
    sdk.exec(method, params, { validateSign: true });

  const checks: Array<[string, () => Promise<void>]> = [
    [
      'trade lifecycle (oauth → trade.create → buyer pays → signed notify → trade.query)',
      async () => {
        const user = await control.createUser({ balanceFen: 10_000 });
        const { authCode } = await control.issueAuthCode({ userId: user.userId, appId: APP_ID });
        const token = await sdk.exec('alipay.system.oauth.token', {
          grantType: 'authorization_code',
          code: authCode,
        });
        expectEqual(token.openId, user.openIds[APP_ID], 'oauth open_id');
        const created = await exec('alipay.trade.create', {
          notifyUrl: receiver.url,
          bizContent: {
            outTradeNo: 'SELFCHECK_R1',
            totalAmount: '12.30',
            subject: '校园卡充值',
            productCode: 'JSAPI_PAY',
            opAppId: APP_ID,
            buyerOpenId: token.openId,
          },
        });
        expectEqual(created.code, '10000', 'trade.create code');
        const paid = await control.payTrade({ tradeNO: created.tradeNo, userId: user.userId });
        expectEqual(paid.resultCode, '9000', 'my.tradePay resultCode');
        await control.waitForNotifications({ outTradeNo: 'SELFCHECK_R1' });
        const notification = receiver.received.find((n) => n.out_trade_no === 'SELFCHECK_R1');
        expect(notification, 'no trade_status_sync received');
        expect(sdk.checkNotifySignV2(notification), 'checkNotifySignV2 rejected the notification');
        expectEqual(notification.trade_status, 'TRADE_SUCCESS', 'notified trade_status');
        const queried = await exec('alipay.trade.query', { bizContent: { outTradeNo: 'SELFCHECK_R1' } });
        expectEqual(queried.tradeStatus, 'TRADE_SUCCESS', 'trade.query trade_status');
        expectEqual((await control.getUser(user.userId)).balanceFen, 10_000 - 1230, 'buyer balance');
      },
    ],
    [
      'withholding lifecycle (signStr → sign → dut_user_sign → query NORMAL → pay → unsign → pay refused)',
      async () => {
        const user = await control.createUser({ balanceFen: 5_000 });
        const signStr = encodeURIComponent(
          sdk.sdkExecute('alipay.user.agreement.page.sign', {
            notifyUrl: receiver.url,
            bizContent: {
              personalProductCode: 'GENERAL_WITHHOLDING_P',
              productCode: 'GENERAL_WITHHOLDING',
              signScene: 'INDUSTRY|CAMPUS_CARD',
              externalAgreementNo: 'SELFCHECKA1',
              accessParams: { channel: 'ALIPAYAPP' },
            },
          }),
        );
        const signed = await control.signAgreement({ signStr, userId: user.userId });
        expectEqual(signed.resultStatus, '7000', 'my.paySignCenter resultStatus');
        const agreementNo = signed.agreementNo!;
        await control.waitForNotifications({ agreementNo, notifyType: 'dut_user_sign' });
        const signNotice = receiver.received.find((n) => n.notify_type === 'dut_user_sign');
        expect(signNotice && sdk.checkNotifySignV2(signNotice), 'dut_user_sign missing or badly signed');
        const queried = await exec('alipay.user.agreement.query', { bizContent: { agreementNo } });
        expectEqual(queried.status, 'NORMAL', 'agreement.query status');
        const deduction = await exec('alipay.trade.pay', {
          bizContent: {
            outTradeNo: 'SELFCHECK_D1',
            totalAmount: '8.50',
            subject: '食堂消费',
            productCode: 'GENERAL_WITHHOLDING',
            agreementParams: { agreementNo },
          },
        });
        expectEqual(deduction.code, '10000', 'withholding trade.pay code');
        await control.unsignAgreement(agreementNo);
        await control.waitForNotifications({ agreementNo, notifyType: 'dut_user_unsign' });
        const refused = await exec('alipay.trade.pay', {
          bizContent: {
            outTradeNo: 'SELFCHECK_D2',
            totalAmount: '1.00',
            subject: '食堂消费',
            productCode: 'GENERAL_WITHHOLDING',
            agreementParams: { agreementNo },
          },
        });
        expectEqual(refused.subCode, 'ACQ.AGREEMENT_INVALID', 'pay after unsign');
      },
    ],
    [
      'refund (campus-code pay → partial refund → idempotent repeat → full refund closes → over-refund refused)',
      async () => {
        const user = await control.createUser({ balanceFen: 3_000 });
        const { authCode } = await control.issuePaymentCode({ userId: user.userId });
        const paid = await exec('alipay.trade.pay', {
          bizContent: {
            outTradeNo: 'SELFCHECK_C1',
            totalAmount: '20.00',
            subject: '校园码',
            scene: 'bar_code',
            authCode,
          },
        });
        expectEqual(paid.code, '10000', 'campus-code trade.pay code');
        const refund = (outRequestNo: string, refundAmount: string) =>
          exec('alipay.trade.refund', {
            bizContent: { outTradeNo: 'SELFCHECK_C1', refundAmount, outRequestNo },
          });
        const first = await refund('RF1', '5.00');
        expectEqual(first.fundChange, 'Y', 'first refund fund_change');
        const repeat = await refund('RF1', '5.00');
        expectEqual(repeat.fundChange, 'N', 'repeated refund fund_change');
        expectEqual(repeat.refundFee, '5.00', 'repeated refund refund_fee');
        const rest = await refund('RF2', '15.00');
        expectEqual(rest.refundFee, '20.00', 'cumulative refund_fee');
        const over = await refund('RF3', '0.01');
        expectEqual(over.subCode, 'ACQ.TRADE_HAS_CLOSE', 'refund after full refund');
        const queried = await exec('alipay.trade.query', { bizContent: { outTradeNo: 'SELFCHECK_C1' } });
        expectEqual(queried.tradeStatus, 'TRADE_CLOSED', 'status after full refund');
        const refundQuery = await exec('alipay.trade.fastpay.refund.query', {
          bizContent: { outTradeNo: 'SELFCHECK_C1', outRequestNo: 'RF1' },
        });
        expectEqual(refundQuery.refundStatus, 'REFUND_SUCCESS', 'refund query');
        expectEqual((await control.getUser(user.userId)).balanceFen, 3_000, 'buyer balance after refunds');
      },
    ],
  ];

  let failures = 0;
  for (const [name, check] of checks) {
    try {
      await check();
      console.log(`PASS ${name}`);
    } catch (error) {
      failures++;
      console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  receiver.close();
  await sandbox.close();
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.log(`FAIL selfcheck could not start: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
