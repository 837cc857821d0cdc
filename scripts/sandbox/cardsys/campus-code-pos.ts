/**
 * The campus devices' campus-code (校园码) side (seed 001 §4–5): a till scans the student's code, the
 * built-in decoding SDK checks it offline, the device says "paid" at once and uploads the payment later,
 * in batches, to the platform (`POST /gateway/v1/campus-code/payments`, HMAC-signed like the swipes).
 *
 *   scan → the code is more than 2 minutes old (device clock)        REFUSED CODE_TIMEOUT (the SDK's CODE_TIMROUT)
 *        → this device decoded the same code in the last 2 minutes  REFUSED ALREADY_SCANNED (seed 001 §4)
 *        → no platform configured for the school                    REFUSED NOT_CONFIGURED
 *        → otherwise                                                 PAID, queued for upload
 *   every uploadIntervalMs, per school: the queue goes out in batches of up to 500, unless uploads are held
 *   (to make late and expired uploads). A batch that gets no 2xx stays and goes out again, unchanged, on the
 *   next round (the platform is idempotent on txnNo). Any batch can be sent again by hand (resend).
 *
 * The code itself comes from the Alipay sandbox (`POST /control/campus-codes`): the SDK's outputs, which this
 * device passes on as they are. The device does not parse user_data; the platform does.
 */
import { randomInt } from 'node:crypto';
import type {
  CampusCodeBatchView,
  CampusCodeScanInput,
  CampusCodeScanView,
  CampusCodeUploadSettings,
  ScanRefusal,
} from './control-types.js';
import { SandboxConflict, SandboxNotFound, type CardLedger } from './ledger.js';
import { signedRequest, type SignedHttpTarget } from './signed-http.js';

export const UPLOAD_PATH = '/gateway/v1/campus-code/payments';
/** Seed 001 §6–7: a double-offline code is good for 2 minutes, and a device remembers its decodes as long. */
const CODE_LIFE_MS = 2 * 60_000;
const MAX_BATCH = 500;
export const UPLOAD_DEFAULTS: CampusCodeUploadSettings = {
  held: false,
  intervalMs: 500,
  batchSize: MAX_BATCH,
};

interface Upload {
  txnNo: string;
  terminalId: string;
  finalData: string;
  userData: string;
  templateId: number;
  encodeType: string;
  inUseTime: number;
  amountFen: number;
  scannedAt: string;
}

interface Batch extends CampusCodeBatchView {
  uploads: Upload[];
}

function newTxnNo(at: Date): string {
  const stamp = new Date(at.getTime() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
  return `QR${stamp}${randomInt(0, 1_000_000).toString().padStart(6, '0')}`;
}

export class CampusCodePos {
  private readonly scans = new Map<string, CampusCodeScanView & { upload: Upload | null }>();
  /** Per device (school + terminal): final_data → when it was decoded, kept 2 minutes. */
  private readonly decodes = new Map<string, Map<string, number>>();
  private readonly queues = new Map<string, Upload[]>();
  private readonly settings = new Map<string, CampusCodeUploadSettings>();
  private readonly batches = new Map<string, Batch>();
  private readonly sending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private batchCounter = 0;
  private closed = false;

  constructor(
    private readonly ledger: CardLedger,
    private readonly platformOf: (schoolCode: string) => SignedHttpTarget | null,
    private readonly now: () => Date = () => new Date(),
    /** Called when the tills' books change outside a request (an upload answered on the timer). */
    private readonly onChange: () => void = () => undefined,
  ) {}

  /**
   * After the books were restored from a snapshot (server.ts): a batch the sandbox stopped in the middle of
   * sending may or may not have reached the platform, so it goes again unchanged (the platform answers a
   * repeat with the first answers); queued payments go out on the timer as before, unless held.
   */
  resumeAfterRestore(): void {
    for (const batch of this.batches.values())
      if (batch.state === 'SENDING') Object.assign(batch, { state: 'FAILED', lastResult: 'INTERRUPTED' });
    const isWaiting = [...this.queues.values()].some((queue) => queue.length > 0);
    if (isWaiting || this.failedSchools().length > 0) this.startTimer();
  }

  scan(input: CampusCodeScanInput): CampusCodeScanView {
    const school = this.ledger.school(input.schoolCode);
    const scannedAt = input.scannedAt ? new Date(input.scannedAt) : this.now();
    const txnNo = input.txnNo ?? newTxnNo(scannedAt);
    const key = `${school.code}\u0000${txnNo}`;
    const earlier = this.scans.get(key);
    if (earlier) {
      if (earlier.finalData !== input.code.finalData || earlier.amountFen !== input.amountFen)
        throw new SandboxConflict(`txnNo ${txnNo} was used for another code or amount`, 'TXN_CONFLICT');
      return this.view(earlier);
    }
    const view: CampusCodeScanView & { upload: Upload | null } = {
      txnNo,
      schoolCode: school.code,
      terminalId: input.terminalId,
      amountFen: input.amountFen,
      finalData: input.code.finalData,
      scannedAt: scannedAt.toISOString(),
      result: 'PAID',
      refusal: null,
      uploadState: 'QUEUED',
      batchId: null,
      answer: null,
      upload: null,
    };
    const refuse = (refusal: ScanRefusal) => {
      Object.assign(view, { result: 'REFUSED', refusal, uploadState: 'NOT_NEEDED' });
      this.scans.set(key, view);
      return this.view(view);
    };
    if (scannedAt.getTime() - input.code.inUseTime > CODE_LIFE_MS) return refuse('CODE_TIMEOUT');
    const device = this.decodesOf(`${school.code}\u0000${input.terminalId}`, scannedAt.getTime());
    if (device.has(input.code.finalData)) return refuse('ALREADY_SCANNED');
    if (!this.platformOf(school.code)) return refuse('NOT_CONFIGURED');
    device.set(input.code.finalData, scannedAt.getTime());
    view.upload = {
      txnNo,
      terminalId: input.terminalId,
      finalData: input.code.finalData,
      userData: input.code.userData,
      templateId: input.code.templateId,
      encodeType: input.code.encodeType,
      inUseTime: input.code.inUseTime,
      amountFen: input.amountFen,
      scannedAt: view.scannedAt,
    };
    this.scans.set(key, view);
    const queue = this.queues.get(school.code) ?? [];
    queue.push(view.upload);
    this.queues.set(school.code, queue);
    this.startTimer();
    return this.view(view);
  }

  listScans(filter: { schoolCode?: string; terminalId?: string } = {}): CampusCodeScanView[] {
    return [...this.scans.values()]
      .filter(
        (s) =>
          (!filter.schoolCode || s.schoolCode === filter.schoolCode) &&
          (!filter.terminalId || s.terminalId === filter.terminalId),
      )
      .map((s) => this.view(s));
  }

  findScans(txnNo: string, schoolCode?: string): CampusCodeScanView[] {
    return this.listScans({ schoolCode }).filter((s) => s.txnNo === txnNo);
  }

  uploadSettings(schoolCode: string): CampusCodeUploadSettings {
    this.ledger.school(schoolCode);
    return { ...(this.settings.get(schoolCode) ?? UPLOAD_DEFAULTS) };
  }

  /** Holding keeps payments on the device (to make late and expired uploads); releasing sends them at once. */
  setUploadSettings(schoolCode: string, input: Partial<CampusCodeUploadSettings>): CampusCodeUploadSettings {
    const next = { ...this.uploadSettings(schoolCode), ...input };
    this.settings.set(schoolCode, next);
    if (!next.held) void this.flush(schoolCode);
    return { ...next };
  }

  listBatches(schoolCode?: string): CampusCodeBatchView[] {
    return [...this.batches.values()]
      .filter((b) => !schoolCode || b.schoolCode === schoolCode)
      .map(({ uploads: _uploads, ...view }) => structuredClone(view));
  }

  /** Sends whatever is due for the school now (held uploads stay held); resolves once answered. */
  async flush(schoolCode: string): Promise<CampusCodeBatchView[]> {
    if (this.closed || this.uploadSettings(schoolCode).held) return [];
    const sent: CampusCodeBatchView[] = [];
    // Batches that failed before go first, unchanged, then the new payments in order.
    for (const batch of this.batches.values()) {
      if (batch.schoolCode === schoolCode && batch.state === 'FAILED') sent.push(await this.send(batch));
    }
    const queue = this.queues.get(schoolCode) ?? [];
    const { batchSize } = this.uploadSettings(schoolCode);
    while (queue.length > 0 && !this.closed) {
      const uploads = queue.splice(0, batchSize);
      this.batchCounter += 1;
      const batch: Batch = {
        batchId: `B${this.batchCounter}`,
        schoolCode,
        txnNos: uploads.map((u) => u.txnNo),
        state: 'SENDING',
        sends: 0,
        lastResult: null,
        lastSentAt: null,
        answeredAt: null,
        uploads,
      };
      this.batches.set(batch.batchId, batch);
      for (const upload of uploads) this.scanOf(schoolCode, upload.txnNo)!.batchId = batch.batchId;
      sent.push(await this.send(batch));
    }
    return sent;
  }

  /** The device sends one batch again, as it was (the platform answers each payment DUPLICATE). */
  async resend(batchId: string): Promise<CampusCodeBatchView> {
    const batch = this.batches.get(batchId);
    if (!batch) throw new SandboxNotFound(`no batch ${batchId}`);
    return this.send(batch);
  }

  reset(): void {
    this.scans.clear();
    this.decodes.clear();
    this.queues.clear();
    this.settings.clear();
    this.batches.clear();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.reset();
  }

  private async send(batch: Batch): Promise<CampusCodeBatchView> {
    const target = this.platformOf(batch.schoolCode);
    if (this.sending.has(batch.batchId)) return this.batchView(batch);
    if (!target) {
      batch.state = 'FAILED';
      batch.lastResult = 'NOT_CONFIGURED';
      return this.batchView(batch);
    }
    this.sending.add(batch.batchId);
    try {
      batch.sends += 1;
      batch.lastSentAt = new Date().toISOString();
      const result = await signedRequest(target, {
        method: 'POST',
        path: UPLOAD_PATH,
        body: { payments: batch.uploads },
      });
      if (result.kind === 'RESPONSE' && result.status >= 200 && result.status < 300) {
        const answer = JSON.parse(result.text) as {
          results: Array<{ txnNo: string } & Record<string, unknown>>;
        };
        for (const item of answer.results) {
          const scan = this.scanOf(batch.schoolCode, item.txnNo);
          // A resent batch answers DUPLICATE: the scan keeps the first answer, which says what happened.
          if (scan && (scan.answer === null || item.result !== 'DUPLICATE')) {
            scan.answer = item as CampusCodeScanView['answer'];
            scan.uploadState = 'UPLOADED';
          }
        }
        batch.state = 'ANSWERED';
        batch.answeredAt = new Date().toISOString();
        batch.lastResult = `HTTP ${result.status}`;
      } else {
        batch.state = 'FAILED';
        batch.lastResult =
          result.kind === 'RESPONSE' ? `HTTP ${result.status}` : `${result.kind}: ${result.detail}`;
      }
    } finally {
      this.sending.delete(batch.batchId);
      this.onChange();
    }
    return this.batchView(batch);
  }

  private scanOf(schoolCode: string, txnNo: string) {
    return this.scans.get(`${schoolCode}\u0000${txnNo}`);
  }

  private decodesOf(device: string, nowMs: number): Map<string, number> {
    let seen = this.decodes.get(device);
    if (!seen) this.decodes.set(device, (seen = new Map()));
    for (const [finalData, at] of seen) if (nowMs - at > CODE_LIFE_MS) seen.delete(finalData);
    return seen;
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    // One timer for every school; each round sends what is queued, at each school's own interval.
    const lastRound = new Map<string, number>();
    this.timer = setInterval(() => {
      for (const schoolCode of new Set([...this.queues.keys(), ...this.failedSchools()])) {
        const { intervalMs, held } = this.settings.get(schoolCode) ?? UPLOAD_DEFAULTS;
        if (held || Date.now() - (lastRound.get(schoolCode) ?? 0) < intervalMs) continue;
        lastRound.set(schoolCode, Date.now());
        void this.flush(schoolCode).catch(() => undefined);
      }
    }, 100);
    this.timer.unref();
  }

  private failedSchools(): string[] {
    return [...this.batches.values()].filter((b) => b.state === 'FAILED').map((b) => b.schoolCode);
  }

  private batchView(batch: Batch): CampusCodeBatchView {
    const { uploads: _uploads, ...view } = batch;
    return structuredClone(view);
  }

  private view(scan: CampusCodeScanView & { upload: Upload | null }): CampusCodeScanView {
    const { upload: _upload, ...view } = scan;
    return structuredClone(view);
  }
}
