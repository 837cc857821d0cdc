/**
 * Typed client of the card-system sandbox's control API, for tests, the dev launcher, benchmarks and
 * anyone's own tools. Every method is one route of docs/sandbox.md.
 */
import type {
  CampusCodeBatchView,
  CampusCodeScanInput,
  CampusCodeScanView,
  CampusCodeUploadSettings,
  CardStatus,
  CardView,
  ControlErrorBody,
  CreateCardInput,
  CreateSchoolInput,
  FaultInput,
  FaultView,
  PlatformConfigInput,
  PlatformView,
  RecordView,
  SchoolView,
  SwipeInput,
  SwipeView,
} from './control-types.js';

export type * from './control-types.js';

export class CardsysControlError extends Error {
  override name = 'CardsysControlError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export class CardsysSandboxControl {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  health(): Promise<{ ok: true; soapUrl: string; refuseConnections: boolean }> {
    return this.call('GET', '/control/health');
  }

  /** Forgets every school, card, swipe, fault and platform setting, and ends any downtime. */
  reset(): Promise<void> {
    return this.call('POST', '/control/reset');
  }

  createSchool(input: CreateSchoolInput): Promise<SchoolView> {
    return this.call('POST', '/control/schools', input);
  }

  async listSchools(): Promise<SchoolView[]> {
    return (await this.call<{ schools: SchoolView[] }>('GET', '/control/schools')).schools;
  }

  getSchool(schoolCode: string): Promise<SchoolView> {
    return this.call('GET', `/control/schools/${enc(schoolCode)}`);
  }

  /** Where and how the school's POS gateway reaches our platform's deduct route. */
  configurePlatform(schoolCode: string, config: PlatformConfigInput): Promise<PlatformView> {
    return this.call('PUT', `/control/schools/${enc(schoolCode)}/platform`, config);
  }

  createCard(schoolCode: string, input: CreateCardInput): Promise<CardView> {
    return this.call('POST', `/control/schools/${enc(schoolCode)}/cards`, input);
  }

  async listCards(schoolCode: string): Promise<CardView[]> {
    return (await this.call<{ cards: CardView[] }>('GET', `/control/schools/${enc(schoolCode)}/cards`)).cards;
  }

  getCard(schoolCode: string, cardNo: string): Promise<CardView> {
    return this.call('GET', `/control/schools/${enc(schoolCode)}/cards/${enc(cardNo)}`);
  }

  /** Sets the balance directly (a sandbox back door: no record is written). */
  setBalance(schoolCode: string, cardNo: string, balanceFen: number): Promise<CardView> {
    return this.call('PUT', `/control/schools/${enc(schoolCode)}/cards/${enc(cardNo)}/balance`, {
      balanceFen,
    });
  }

  setStatus(schoolCode: string, cardNo: string, status: CardStatus): Promise<CardView> {
    return this.call('PUT', `/control/schools/${enc(schoolCode)}/cards/${enc(cardNo)}/status`, { status });
  }

  /** Every record of the card, newest first. */
  async getRecords(schoolCode: string, cardNo: string): Promise<RecordView[]> {
    const path = `/control/schools/${enc(schoolCode)}/cards/${enc(cardNo)}/records`;
    return (await this.call<{ records: RecordView[] }>('GET', path)).records;
  }

  /**
   * The vendor loses (drop) or doubles (double) the credit of one recharge flow number, or books it with
   * another amount (amount, `amountFen`).
   */
  tamperCredit(
    schoolCode: string,
    flowNo: string,
    how: 'drop' | 'double' | 'amount',
    amountFen?: number,
  ): Promise<CardView> {
    const path = `/control/schools/${enc(schoolCode)}/credits/${enc(flowNo)}/${how}`;
    return this.call('POST', path, how === 'amount' ? { amountFen } : undefined);
  }

  injectFault(input: FaultInput): Promise<FaultView> {
    return this.call('POST', '/control/faults', input);
  }

  async listFaults(): Promise<FaultView[]> {
    return (await this.call<{ faults: FaultView[] }>('GET', '/control/faults')).faults;
  }

  clearFaults(): Promise<void> {
    return this.call('DELETE', '/control/faults');
  }

  clearFault(id: string): Promise<void> {
    return this.call('DELETE', `/control/faults/${enc(id)}`);
  }

  /** true: the SOAP port stops listening (callers get ECONNREFUSED); false: it listens again. */
  setDowntime(refuseConnections: boolean): Promise<{ refuseConnections: boolean }> {
    return this.call('PUT', '/control/downtime', { refuseConnections });
  }

  /** Swipes a card at a POS; answers once the sale is decided (reversals continue in the background). */
  swipe(input: SwipeInput): Promise<SwipeView> {
    return this.call('POST', '/control/swipe', input);
  }

  getSwipe(txnNo: string, schoolCode?: string): Promise<SwipeView> {
    const query = schoolCode ? `?schoolCode=${enc(schoolCode)}` : '';
    return this.call('GET', `/control/swipes/${enc(txnNo)}${query}`);
  }

  async listSwipes(filter: { schoolCode?: string; cardNo?: string } = {}): Promise<SwipeView[]> {
    const query = new URLSearchParams(
      Object.entries(filter).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    ).toString();
    return (await this.call<{ swipes: SwipeView[] }>('GET', `/control/swipes${query ? `?${query}` : ''}`))
      .swipes;
  }

  /** Sends pending reversals now rather than on their back-off timers. */
  async retryReversals(): Promise<number> {
    return (await this.call<{ started: number }>('POST', '/control/reversals/retry')).started;
  }

  /** Polls a swipe until `until` holds, e.g. the reversal is acknowledged; throws after `timeoutMs`. */
  async waitForSwipe(
    txnNo: string,
    until: (swipe: SwipeView) => boolean,
    options: { schoolCode?: string; timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<SwipeView> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    for (;;) {
      const swipe = await this.getSwipe(txnNo, options.schoolCode);
      if (until(swipe)) return swipe;
      if (Date.now() > deadline) {
        throw new Error(`swipe ${txnNo} did not reach the expected state in time: ${JSON.stringify(swipe)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
    }
  }

  /** A till scans a campus code (the Alipay sandbox's SDK outputs) and says "paid" offline; it is uploaded later. */
  scanCampusCode(input: CampusCodeScanInput): Promise<CampusCodeScanView> {
    return this.call('POST', '/control/scan', input);
  }

  getScan(txnNo: string, schoolCode?: string): Promise<CampusCodeScanView> {
    const query = schoolCode ? `?schoolCode=${enc(schoolCode)}` : '';
    return this.call('GET', `/control/scans/${enc(txnNo)}${query}`);
  }

  async listScans(filter: { schoolCode?: string; terminalId?: string } = {}): Promise<CampusCodeScanView[]> {
    const query = new URLSearchParams(
      Object.entries(filter).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    ).toString();
    return (
      await this.call<{ scans: CampusCodeScanView[] }>('GET', `/control/scans${query ? `?${query}` : ''}`)
    ).scans;
  }

  /** Holds or releases a school's campus-code uploads (releasing sends what waited), or changes their pace. */
  setCampusCodeUploads(
    schoolCode: string,
    settings: Partial<CampusCodeUploadSettings>,
  ): Promise<CampusCodeUploadSettings> {
    return this.call('PUT', `/control/schools/${enc(schoolCode)}/campus-code-uploads`, settings);
  }

  /** Uploads what the school's devices hold now (unless held), and answers once the platform has. */
  async flushCampusCodeUploads(schoolCode: string): Promise<CampusCodeBatchView[]> {
    return (
      await this.call<{ batches: CampusCodeBatchView[] }>(
        'POST',
        `/control/schools/${enc(schoolCode)}/campus-code-uploads/flush`,
      )
    ).batches;
  }

  async listCampusCodeBatches(schoolCode?: string): Promise<CampusCodeBatchView[]> {
    const query = schoolCode ? `?schoolCode=${enc(schoolCode)}` : '';
    return (
      await this.call<{ batches: CampusCodeBatchView[] }>('GET', `/control/campus-code-batches${query}`)
    ).batches;
  }

  /** The device sends one batch again, unchanged. */
  resendCampusCodeBatch(batchId: string): Promise<CampusCodeBatchView> {
    return this.call('POST', `/control/campus-code-batches/${enc(batchId)}/resend`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      let error: Partial<ControlErrorBody['error']> = {};
      try {
        error = (JSON.parse(text) as ControlErrorBody).error ?? {};
      } catch {
        // not JSON: keep the raw text as the message
      }
      throw new CardsysControlError(
        response.status,
        error.code ?? 'HTTP_ERROR',
        error.message ?? text,
        error.field,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

const enc = encodeURIComponent;
