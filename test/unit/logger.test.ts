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

describe('logs name no person and show no whole card number', () => {
  it('blanks holder names and Alipay ids, and masks card numbers to their last four digits', async () => {
    const { logger, text } = capture();
    logger.info('card bound for withholding', {
      cardNo: '20260001234',
      holderName: '张三丰',
      openId: '074a1b2c3d4e5f60718293a4b5c6d7e8',
      buyer_open_id: '074aaaabbbbccccddddeeeeffff00001',
      nested: { card_no: '9988776655' },
    });
    await new Promise((r) => setImmediate(r));
    for (const leaked of [
      '20260001234',
      '张三丰',
      '074a1b2c3d4e5f60718293a4b5c6d7e8',
      '074aaaabbbb',
      '9988776655',
    ])
      assert.ok(!text().includes(leaked), `${leaked} leaked: ${text()}`);
    assert.match(text(), /\*{7}1234/);
  });

  it('logs a failed query by its PostgreSQL code and constraint, not its SQL and parameters', async () => {
    const { logger, text } = capture();
    const cause = Object.assign(
      new Error('duplicate key value violates unique constraint "bindings_user_card_live_key"'),
      {
        code: '23505',
        constraint: 'bindings_user_card_live_key',
        table: 'bindings',
        detail: 'Key (card_no)=(20260001234) already exists.',
      },
    );
    const error = new Error(
      'Failed query: insert into "bindings" ("card_no", "holder_name") values ($1, $2)\nparams: 20260001234,张三丰',
      { cause },
    );
    logger.error('unhandled error', { error });
    await new Promise((r) => setImmediate(r));
    assert.ok(!text().includes('20260001234'), text());
    assert.ok(!text().includes('张三丰'), text());
    assert.match(text(), /code 23505, constraint bindings_user_card_live_key/);
  });
});

describe('log levels', () => {
  it('writes nothing below the configured level, from the logger or its children', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const logger = createLogger({ level: 'warn', stream });
    const child = logger.child({ component: 'test' });
    logger.info('info line');
    logger.http('request', { path: '/notify/alipay' });
    child.debug('debug line');
    child.warn('child warning');
    logger.error('an error');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { message: string }).message),
      ['child warning', 'an error'],
    );
  });
});
