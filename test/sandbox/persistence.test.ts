import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAlipaySandbox } from '../../scripts/sandbox/alipay/server.js';
import { AlipaySandboxControl } from '../../scripts/sandbox/alipay/control-client.js';
import { startCardsysSandbox } from '../../scripts/sandbox/cardsys/server.js';
import { CardsysSandboxControl } from '../../scripts/sandbox/cardsys/control-client.js';
import { decodeGraph, encodeGraph } from '../../scripts/sandbox/snapshot.js';
import { eventually } from '../support/http.js';

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

  it('the tills: campus-code scans, held uploads, decode records, and a batch cut off mid-send', async () => {
    // The platform's upload route as the tills see it: the first batch gets no answer (the sandbox is stopped
    // while it waits), every later one is answered ACCEPTED.
    const received: Array<{ payments: Array<{ txnNo: string }> }> = [];
    const platform = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const batch = JSON.parse(body) as { payments: Array<{ txnNo: string }> };
        received.push(batch);
        if (received.length === 1) return;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ results: batch.payments.map((p) => ({ txnNo: p.txnNo, result: 'ACCEPTED' })) }),
        );
      });
    });
    await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;
    const code = () => ({
      finalData: crypto.randomBytes(24).toString('base64'),
      userData: Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 1]).toString('base64'),
      templateId: 4,
      encodeType: 'GB2312',
      inUseTime: Date.now(),
    });
    const stateFile = path.join(dir, 'tills.json');
    const first = await startCardsysSandbox({ stateFile });
    let second: Awaited<ReturnType<typeof startCardsysSandbox>> | undefined;
    try {
      let control = new CardsysSandboxControl(first.url);
      const schoolCode = '4100000002';
      await control.createSchool({ code: schoolCode, name: '持久大学' });
      await control.configurePlatform(schoolCode, { baseUrl, clientId: 'till', secret: 's' });
      const [sent, held] = [code(), code()];
      const scan = (input: ReturnType<typeof code>) =>
        control.scanCampusCode({ schoolCode, terminalId: 'TILL-1', amountFen: 300, code: input });
      const cutOff = await scan(sent);
      await eventually(() => received.length === 1, { message: 'the first batch reaches the platform' });
      await control.setCampusCodeUploads(schoolCode, { held: true });
      const waiting = await scan(held);
      await first.close();

      second = await startCardsysSandbox({ stateFile });
      control = new CardsysSandboxControl(second.url);
      // Uploads are still held; the batch cut off mid-send is known not to have been answered.
      const [interrupted] = await control.listCampusCodeBatches(schoolCode);
      assert.deepEqual(
        [interrupted.state, interrupted.lastResult, interrupted.txnNos],
        ['FAILED', 'INTERRUPTED', [cutOff.txnNo]],
      );
      assert.equal((await control.getScan(waiting.txnNo, schoolCode)).uploadState, 'QUEUED');
      assert.equal((await control.setCampusCodeUploads(schoolCode, { intervalMs: 500 })).held, true);
      // The till still remembers decoding the held code within the last 2 minutes.
      assert.equal((await scan(held)).refusal, 'ALREADY_SCANNED');

      // Released: the cut-off batch goes again unchanged, then the held payment.
      await control.setCampusCodeUploads(schoolCode, { held: false });
      await eventually(() => received.length === 3, { message: 'both batches are uploaded on release' });
      assert.deepEqual(
        received.slice(1).map((batch) => batch.payments.map((p) => p.txnNo)),
        [[cutOff.txnNo], [waiting.txnNo]],
      );
      for (const txnNo of [cutOff.txnNo, waiting.txnNo]) {
        const view = await eventually(async () => {
          const scanned = await control.getScan(txnNo, schoolCode);
          return scanned.uploadState === 'UPLOADED' && scanned;
        });
        assert.equal(view.answer?.result, 'ACCEPTED');
      }
    } finally {
      await second?.close();
      platform.closeAllConnections();
      platform.close();
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
