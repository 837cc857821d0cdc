import assert from 'node:assert/strict';
import type { CardsysControlError } from '../../../scripts/sandbox/cardsys/control-client.js';
import { freshSchool, useCardsysSandbox } from './support.js';

/** The tills' campus-code side on its own (the uploads to the real platform: test/integration/campus-code). */
describe('card-system sandbox: campus-code scans at the till', () => {
  const under = useCardsysSandbox();
  const code = (inUseTime = Date.now()) => ({
    finalData: Buffer.from(`code-${Math.random()}`).toString('base64'),
    userData: Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 1]).toString('base64'),
    templateId: 4,
    encodeType: 'GB2312',
    inUseTime,
  });

  it('refuses to take a code when no platform is configured for the school', async () => {
    const school = await freshSchool(under.control);
    const scan = await under.control.scanCampusCode({
      schoolCode: school.code,
      terminalId: 'TILL-1',
      amountFen: 100,
      code: code(),
    });
    assert.deepEqual(
      [scan.result, scan.refusal, scan.uploadState],
      ['REFUSED', 'NOT_CONFIGURED', 'NOT_NEEDED'],
    );
  });

  it('answers a repeated txnNo with the first scan, and refuses it for another code (409)', async () => {
    const school = await freshSchool(under.control);
    const input = {
      schoolCode: school.code,
      terminalId: 'TILL-1',
      amountFen: 100,
      code: code(),
      txnNo: 'QR1',
    };
    const first = await under.control.scanCampusCode(input);
    assert.deepEqual(await under.control.scanCampusCode(input), first);
    assert.deepEqual(await under.control.getScan('QR1', school.code), first);
    await assert.rejects(
      under.control.scanCampusCode({ ...input, code: code() }),
      (error: CardsysControlError) => error.status === 409 && error.code === 'TXN_CONFLICT',
    );
  });

  it('validates the scan and names the field', async () => {
    const school = await freshSchool(under.control);
    await assert.rejects(
      under.control.scanCampusCode({
        schoolCode: school.code,
        terminalId: 'TILL-1',
        amountFen: 0,
        code: code(),
      }),
      (error: CardsysControlError) => error.status === 400 && error.field === 'amountFen',
    );
    await assert.rejects(
      under.control.getScan('nope', school.code),
      (error: CardsysControlError) => error.status === 404,
    );
  });

  it('holds and releases a school’s uploads and changes their pace', async () => {
    const school = await freshSchool(under.control);
    assert.deepEqual(await under.control.setCampusCodeUploads(school.code, { held: true, intervalMs: 250 }), {
      held: true,
      intervalMs: 250,
      batchSize: 500,
    });
    assert.deepEqual(await under.control.flushCampusCodeUploads(school.code), []);
    assert.equal((await under.control.setCampusCodeUploads(school.code, { held: false })).held, false);
  });
});
