import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startAlipaySandbox, type AlipaySandbox } from '../../../scripts/sandbox/alipay/server.js';
import { AlipayError } from '../../../server/src/integrations/alipay/errors.js';
import { Alipay } from '../../../server/src/integrations/alipay/alipay.js';

describe('our Alipay key in the forms operators paste it', () => {
  const appId = '2021000000000077';
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  let sandbox: AlipaySandbox;
  before(async () => {
    sandbox = await startAlipaySandbox({
      apps: [{ appId, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    });
  });
  after(() => sandbox.close());

  const forms: Array<[string, string]> = [
    ['PKCS8 PEM', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ['PKCS1 PEM', privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
    ['bare PKCS8 base64', privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64')],
    ['bare PKCS1 base64', privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64')],
  ];

  for (const [name, key] of forms) {
    it(`signs requests Alipay accepts with a ${name} key`, async () => {
      const alipay = new Alipay({
        appId,
        privateKey: key,
        alipayPublicKey: sandbox.alipayPublicKey,
        gateway: sandbox.gatewayUrl,
        timeoutMs: 3000,
        idMode: 'open_id',
      });
      // A made-up auth code: the gateway checks the signature first, so "invalid code" means "signed right".
      const error = await alipay.exchangeAuthCode('made-up-code').catch((e: unknown) => e);
      assert.ok(error instanceof AlipayError, String(error));
      assert.equal(error.subCode, 'isv.code-invalid');
    });
  }
});
