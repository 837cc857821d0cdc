import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSignatureValid, signedContent } from '../../scripts/sandbox/membercard/signature.js';
import { signParams, stringToSign } from '../../server/src/integrations/membercard/signature.js';
import { privateKeyOf, publicKeyPemOf } from '../../server/src/lib/key-references.js';

/** Our reading of seed 003's SignHelper.signStringParam (docs/membercard.md §3). */
describe('signing our calls to card management', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('signs the non-empty parameters but sign, sorted by name, as k=v joined by & (the worked example)', () => {
    const params = {
      templateId: '20200227000000002181302000300947',
      bizCardNo: '20260001',
      targetTemplateId: '20200227000000002181302000300948',
      changeReason: '校园卡已挂失',
      empty: '',
      missing: null,
      sign: 'not part of it',
    };
    assert.equal(
      stringToSign(params),
      'bizCardNo=20260001&changeReason=校园卡已挂失&targetTemplateId=20200227000000002181302000300948' +
        '&templateId=20200227000000002181302000300947',
    );
  });

  it('sends what it signed plus a base64 SHA256withRSA signature in `sign`', () => {
    const sent = signParams(
      { templateId: 'T1', bizCardNo: '20260001', point: '120', changeReason: '充值' },
      privateKey,
    );
    assert.deepEqual(Object.keys(sent).sort(), ['bizCardNo', 'changeReason', 'point', 'sign', 'templateId']);
    assert.ok(
      crypto.verify('sha256', Buffer.from(stringToSign(sent)), publicKey, Buffer.from(sent.sign, 'base64')),
    );
    // The sandbox's check is written separately; both readings must agree.
    assert.equal(signedContent(sent), stringToSign(sent));
    assert.equal(isSignatureValid(sent, publicPem), true);
    assert.equal(isSignatureValid({ ...sent, point: '121' }, publicPem), false);
  });

  it('reads our key from a file or the environment by reference, and derives the public key from it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-ref-'));
    const file = path.join(dir, 'key.pem');
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    fs.writeFileSync(file, pem);
    process.env.TEST_MEMBERCARD_KEY = pem;
    try {
      assert.equal(publicKeyPemOf(`file:${file}`), publicPem);
      assert.equal(publicKeyPemOf('env:TEST_MEMBERCARD_KEY'), publicPem);
      assert.throws(() => privateKeyOf('file:/nonexistent/key.pem'), /cannot read the key file/);
      assert.throws(() => privateKeyOf('vault:key'), /file:<path> or env:<VARIABLE>/);
    } finally {
      delete process.env.TEST_MEMBERCARD_KEY;
      fs.rmSync(dir, { recursive: true });
    }
  });
});
