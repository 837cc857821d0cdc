import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../server/src/lib/logger.js';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level: 'debug', stream }), text: () => lines.join('\n') };
}

const ID_NUMBER = '11010519491231002X';
const PHONE = '13812345678';

describe('logs never contain personal data or secrets', () => {
  it('redacts ID numbers and phone numbers written in messages and free text', async () => {
    const { logger, text } = capture();
    logger.info(`binding for ${ID_NUMBER}, call +86 ${PHONE}`, {
      note: `holder id ${ID_NUMBER.toLowerCase()} phone ${PHONE}`,
    });
    await new Promise((r) => setImmediate(r));
    assert.ok(!text().includes('11010519491231002'), text());
    assert.ok(!text().includes(PHONE), text());
    assert.match(text(), /\[REDACTED ID\]/);
    assert.match(text(), /\[REDACTED PHONE\]/);
  });

  it('blanks fields whose names say they are secret, however deep', async () => {
    const { logger, text } = capture();
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    logger.info('calling the vendor', {
      password: 'hunter2-pass',
      request: {
        headers: { authorization: 'Bearer abc.def.ghi' },
        appAuthToken: 'tok-123456',
        idNumber: '123',
      },
      cardsys: { credentials: [{ secret: 's3cr3t-value' }] },
      mobile: '1234',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    });
    await new Promise((r) => setImmediate(r));
    for (const leaked of ['hunter2-pass', 'abc.def.ghi', 'tok-123456', 's3cr3t-value', 'BEGIN PRIVATE KEY']) {
      assert.ok(!text().includes(leaked), `${leaked} leaked: ${text()}`);
    }
  });

  it('scrubs PEM keys and bearer tokens that appear inside error messages', async () => {
    const { logger, text } = capture();
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    logger.error('failed', { error: new Error(`bad key ${pem} with Bearer eyJhbGciOi.x.y`) });
    await new Promise((r) => setImmediate(r));
    assert.ok(!text().includes('BEGIN RSA PRIVATE KEY'), text());
    assert.ok(!text().includes('eyJhbGciOi'), text());
  });

  it('keeps order numbers, trade numbers and amounts readable', async () => {
    const { logger, text } = capture();
    logger.info('credited', {
      outTradeNo: 'R2026112512301599123456780',
      tradeNo: '2026112522001488791440154030',
      amountFen: 5000,
    });
    await new Promise((r) => setImmediate(r));
    assert.match(text(), /R2026112512301599123456780/);
    assert.match(text(), /2026112522001488791440154030/);
    assert.match(text(), /5000/);
  });
});
