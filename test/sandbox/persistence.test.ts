import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAlipaySandbox } from '../../scripts/sandbox/alipay/server.js';
import { AlipaySandboxControl } from '../../scripts/sandbox/alipay/control-client.js';
import { startCardsysSandbox } from '../../scripts/sandbox/cardsys/server.js';
import { CardsysSandboxControl } from '../../scripts/sandbox/cardsys/control-client.js';
import { decodeGraph, encodeGraph } from '../../scripts/sandbox/snapshot.js';

describe('sandboxes keep their state across a restart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-state-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps shared objects shared, and Maps, Dates and buffers as they were', () => {
    const merchant = { pid: '2088', balanceFen: 5 };
    const graph = {
      merchants: new Map([['2088', merchant]]),
      trades: new Map([['T1', { merchant, at: new Date(0), secret: Buffer.from('k') }]]),
    };
    const back = decodeGraph(JSON.parse(JSON.stringify(encodeGraph(graph)))) as typeof graph;
    const trade = back.trades.get('T1')!;
    assert.equal(trade.merchant, back.merchants.get('2088'), 'one merchant object, as before');
    assert.ok(trade.at instanceof Date && trade.at.getTime() === 0);
    assert.equal(trade.secret.toString(), 'k');
  });

  it('the card system: schools, cards, balances, records and bind docs', async () => {
    const stateFile = path.join(dir, 'cardsys.json');
    const first = await startCardsysSandbox({ stateFile });
    const control = new CardsysSandboxControl(first.url);
    await control.createSchool({ code: '4100000001', name: '持久大学' });
    const card = await control.createCard('4100000001', { name: '张三', balanceFen: 1_234 });
    await first.close();

    const second = await startCardsysSandbox({ stateFile });
    try {
      const again = await new CardsysSandboxControl(second.url).getCard('4100000001', card.cardNo);
      assert.equal(again.balanceFen, 1_234);
      assert.equal(again.name, '张三');
    } finally {
      await second.close();
    }
  });

  it('Alipay: users, balances and merchants, under the same key and open_ids', async () => {
    const stateFile = path.join(dir, 'alipay.json');
    const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const alipayKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const options = {
      stateFile,
      alipayPrivateKey: alipayKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      apps: [
        {
          appId: '2021000000000777',
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      ],
    };
    const first = await startAlipaySandbox(options);
    const user = await new AlipaySandboxControl(first.url).createUser({ balanceFen: 4_321 });
    await first.close();

    const second = await startAlipaySandbox(options);
    try {
      const again = await new AlipaySandboxControl(second.url).getUser(user.userId);
      assert.equal(again.balanceFen, 4_321);
      assert.deepEqual(again.openIds, user.openIds);
    } finally {
      await second.close();
    }
  });
});
