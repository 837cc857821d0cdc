/**
 * The card system's POS/IoT gateway (seed 000 §2.3, §2.7): what happens when a card is swiped at a till.
 *
 *   not bound to Alipay              → pay from the card balance (the old logic)
 *   bound → ask the platform (POST /gateway/v1/deductions, HMAC-signed, DESIGN §6.2)
 *     APPROVED                       → record an Alipay-paid sale, leave the balance alone
 *     DECLINED, or a 4xx             → pay from the card balance
 *     read timeout / lost connection / 5xx / unreadable answer
 *                                    → ask again with the same txnNo (the platform is idempotent on it),
 *                                      at most maxAttempts times in all
 *     connect failure, or attempts used up
 *                                    → pay from the card balance and send a reversal for the txnNo,
 *                                      retried in the background until the platform acknowledges it (2xx)
 *
 * A membership-card dynamic code scanned from the Alipay wallet (DESIGN §6.4) stands for a card the till
 * does not know: the platform is always asked, and its answer names the card. APPROVED → an Alipay-paid sale
 * on that card; DECLINED for the card's own reasons → the card balance, as for a swipe; a code the platform
 * refuses, or no answer at all → declined at the till (a reversal follows whenever the platform might have
 * approved).
 */
import { randomInt } from 'node:crypto';
import type {
  AttemptResult,
  AttemptView,
  PlatformConfigInput,
  PlatformOutcome,
  PlatformView,
  SwipeDeclineReason,
  SwipeInput,
  SwipeView,
} from './control-types.js';
import { SandboxConflict, VendorRefusal, type CardLedger, type School } from './ledger.js';
import { signedRequest, type SignedHttpResult, type SignedHttpTarget } from './signed-http.js';

interface PlatformConfig extends PlatformView {
  secret: string;
}

export const PLATFORM_DEFAULTS = {
  connectTimeoutMs: 1000,
  readTimeoutMs: 2000,
  maxAttempts: 3,
  retryDelayMs: 100,
  reversalRetryMs: 1000,
  reversalRetryMaxMs: 30_000,
} as const;

const DEDUCTIONS_PATH = '/gateway/v1/deductions';

interface DeductionAnswer {
  txnNo?: string;
  deductionId?: string;
  decision: 'APPROVED' | 'DECLINED';
  reason?: string;
  status?: string;
  /** For a dynamic code: the card it stands for. */
  cardNo?: string;
}

type DeductionBody = {
  txnNo: string;
  amountFen: number;
  terminalId: string;
  occurredAt: string;
} & ({ cardNo: string } | { dynamicCode: string });

interface AttemptOutcome {
  view: AttemptView;
  answer?: DeductionAnswer;
}

/** An attempt after which the platform may or may not have recorded the deduction. */
const INCONCLUSIVE: AttemptResult[] = ['READ_TIMEOUT', 'CONNECTION_LOST', 'SERVER_ERROR', 'BAD_ANSWER'];

function parseAnswer(text: string): DeductionAnswer | null {
  try {
    const body = JSON.parse(text) as Partial<DeductionAnswer>;
    return body && (body.decision === 'APPROVED' || body.decision === 'DECLINED')
      ? (body as DeductionAnswer)
      : null;
  } catch {
    return null;
  }
}

function errorCodeOf(text: string): string | null {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

function interpret(result: SignedHttpResult): {
  result: AttemptResult;
  httpStatus: number | null;
  detail: string | null;
  answer?: DeductionAnswer;
} {
  if (result.kind !== 'RESPONSE') return { result: result.kind, httpStatus: null, detail: result.detail };
  const { status, text } = result;
  if (status >= 200 && status < 300) {
    const answer = parseAnswer(text);
    return answer
      ? { result: 'ANSWERED', httpStatus: status, detail: null, answer }
      : { result: 'BAD_ANSWER', httpStatus: status, detail: text.slice(0, 200) };
  }
  // 429 asks us to come back; other 4xx mean the platform refused this request for good.
  if (status >= 400 && status < 500 && status !== 429) {
    return { result: 'REJECTED', httpStatus: status, detail: errorCodeOf(text) ?? text.slice(0, 200) };
  }
  return {
    result: status >= 500 || status === 429 ? 'SERVER_ERROR' : 'BAD_ANSWER',
    httpStatus: status,
    detail: errorCodeOf(text),
  };
}

function newTxnNo(at: Date): string {
  const stamp = new Date(at.getTime() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
  return `POS${stamp}${randomInt(0, 1_000_000).toString().padStart(6, '0')}`;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PosGateway {
  private readonly platforms = new Map<string, PlatformConfig>();
  private readonly swipes = new Map<string, SwipeView>();
  private readonly inFlight = new Map<string, { input: SwipeInput; done: Promise<SwipeView> }>();
  private readonly reversalTimers = new Map<string, NodeJS.Timeout>();
  private readonly reversalsSending = new Set<string>();
  private closed = false;

  constructor(
    private readonly ledger: CardLedger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  configurePlatform(schoolCode: string, input: PlatformConfigInput): PlatformView {
    this.ledger.school(schoolCode);
    const config: PlatformConfig = { ...PLATFORM_DEFAULTS, ...input };
    this.platforms.set(schoolCode, config);
    this.retryReversalsNow(); // a platform that moved or came back gets its pending reversals at once
    return this.platformOf(schoolCode)!;
  }

  /** Where the school's devices send their signed requests (the campus-code uploads use it too). */
  platformTarget(schoolCode: string): SignedHttpTarget | null {
    return this.platforms.get(schoolCode) ?? null;
  }

  platformOf(schoolCode: string): PlatformView | null {
    const config = this.platforms.get(schoolCode);
    if (!config) return null;
    const { secret: _secret, ...view } = config;
    return view;
  }

  async swipe(input: SwipeInput): Promise<SwipeView> {
    const school = this.ledger.school(input.schoolCode);
    const txnNo = input.txnNo ?? newTxnNo(this.now());
    const key = `${school.code}\u0000${txnNo}`;
    const sameSale = (earlier: SwipeInput | SwipeView) =>
      (input.dynamicCode
        ? earlier.dynamicCode === input.dynamicCode
        : !earlier.dynamicCode && earlier.cardNo === input.cardNo) && earlier.amountFen === input.amountFen;

    const done = this.swipes.get(key);
    if (done) {
      if (!sameSale(done))
        throw new SandboxConflict(`txnNo ${txnNo} was used for another card or amount`, 'TXN_CONFLICT');
      return structuredClone(done);
    }
    const running = this.inFlight.get(key);
    if (running) {
      if (!sameSale(running.input))
        throw new SandboxConflict(`txnNo ${txnNo} was used for another card or amount`, 'TXN_CONFLICT');
      return structuredClone(await running.done);
    }
    const started = this.run(school, { ...input, txnNo }, key);
    this.inFlight.set(key, { input, done: started });
    try {
      return structuredClone(await started);
    } finally {
      this.inFlight.delete(key);
    }
  }

  find(txnNo: string, schoolCode?: string): SwipeView[] {
    return this.list({ schoolCode }).filter((swipe) => swipe.txnNo === txnNo);
  }

  list(filter: { schoolCode?: string; cardNo?: string } = {}): SwipeView[] {
    return [...this.swipes.values()]
      .filter(
        (s) =>
          (!filter.schoolCode || s.schoolCode === filter.schoolCode) &&
          (!filter.cardNo || s.cardNo === filter.cardNo),
      )
      .map((s) => structuredClone(s));
  }

  /** Sends every pending reversal now instead of waiting for its timer. */
  retryReversalsNow(): number {
    let started = 0;
    for (const [key, swipe] of this.swipes) {
      if (swipe.reversal.state !== 'PENDING' || this.reversalsSending.has(key)) continue;
      clearTimeout(this.reversalTimers.get(key));
      this.reversalTimers.delete(key);
      void this.sendReversal(key);
      started += 1;
    }
    return started;
  }

  reset(): void {
    for (const timer of this.reversalTimers.values()) clearTimeout(timer);
    this.reversalTimers.clear();
    this.swipes.clear();
    this.platforms.clear();
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  private async run(school: School, input: SwipeInput & { txnNo: string }, key: string): Promise<SwipeView> {
    const occurredAt = input.occurredAt ? new Date(input.occurredAt) : this.now();
    const swipe: SwipeView = {
      txnNo: input.txnNo,
      schoolCode: school.code,
      cardNo: input.cardNo ?? null,
      dynamicCode: input.dynamicCode ?? null,
      amountFen: input.amountFen,
      terminalId: input.terminalId,
      place: input.place ?? '第一食堂',
      occurredAt: occurredAt.toISOString(),
      path: 'DECLINED',
      declineReason: null,
      balanceAfterFen: null,
      recordSerial: null,
      platform: {
        outcome: 'NOT_CALLED',
        decision: null,
        reason: null,
        deductionId: null,
        status: null,
        attempts: [],
      },
      reversal: { state: 'NOT_NEEDED', attempts: 0, lastResult: null, acknowledgedAt: null },
    };

    if (input.dynamicCode) return this.runWithCode(school, swipe, input.dynamicCode, key, occurredAt);
    const card = school.cards.get(input.cardNo!);
    if (!card) return this.decline(key, swipe, 'CARD_NOT_FOUND');
    // A lost or frozen card is refused at the till before anyone is asked.
    if (card.status === 'LOST') return this.decline(key, swipe, 'CARD_LOST');
    if (card.status === 'FROZEN') return this.decline(key, swipe, 'CARD_FROZEN');
    if (!card.bind) return this.payFromBalance(key, school, swipe, occurredAt);

    const config = this.platforms.get(school.code);
    if (!config) {
      swipe.platform.outcome = 'NOT_CONFIGURED';
      return this.payFromBalance(key, school, swipe, occurredAt);
    }

    const asked = await this.askPlatform(config, {
      txnNo: swipe.txnNo,
      cardNo: card.cardNo,
      amountFen: swipe.amountFen,
      terminalId: swipe.terminalId,
      occurredAt: swipe.occurredAt,
    });
    swipe.platform = { ...swipe.platform, ...asked.platform };

    if (asked.platform.outcome === 'APPROVED') return this.recordAlipaySale(key, school, swipe, occurredAt);
    const result = this.payFromBalance(key, school, swipe, occurredAt);
    if (asked.needsReversal) this.queueReversal(key, swipe);
    return result;
  }

  private async runWithCode(
    school: School,
    swipe: SwipeView,
    dynamicCode: string,
    key: string,
    occurredAt: Date,
  ): Promise<SwipeView> {
    const config = this.platforms.get(school.code);
    if (!config) {
      swipe.platform.outcome = 'NOT_CONFIGURED';
      return this.decline(key, swipe, 'PLATFORM_UNAVAILABLE');
    }
    const asked = await this.askPlatform(config, {
      txnNo: swipe.txnNo,
      dynamicCode,
      amountFen: swipe.amountFen,
      terminalId: swipe.terminalId,
      occurredAt: swipe.occurredAt,
    });
    swipe.platform = { ...swipe.platform, ...asked.platform };
    swipe.cardNo = asked.cardNo ?? null;
    const card = swipe.cardNo ? school.cards.get(swipe.cardNo) : undefined;
    const outcome = asked.platform.outcome;
    if (outcome === 'APPROVED' || outcome === 'DECLINED') {
      if (!card) {
        // Approved for a card these books do not have: refuse the sale and take the approval back.
        if (outcome === 'APPROVED') this.queueReversal(key, swipe);
        return this.decline(key, swipe, swipe.cardNo ? 'CARD_NOT_FOUND' : 'CODE_REFUSED');
      }
      if (card.status !== 'NORMAL') {
        if (outcome === 'APPROVED') this.queueReversal(key, swipe);
        return this.decline(key, swipe, card.status === 'LOST' ? 'CARD_LOST' : 'CARD_FROZEN');
      }
      if (outcome === 'APPROVED') return this.recordAlipaySale(key, school, swipe, occurredAt);
      return this.payFromBalance(key, school, swipe, occurredAt);
    }
    const result = this.decline(key, swipe, outcome === 'REJECTED' ? 'CODE_REFUSED' : 'PLATFORM_UNAVAILABLE');
    if (asked.needsReversal) this.queueReversal(key, swipe);
    return result;
  }

  private recordAlipaySale(key: string, school: School, swipe: SwipeView, occurredAt: Date): SwipeView {
    const record = this.ledger.recordAlipaySale(school, { ...swipe, cardNo: swipe.cardNo! }, occurredAt);
    swipe.path = 'ALIPAY';
    swipe.recordSerial = record.serial;
    swipe.balanceAfterFen = record.balanceAfterFen;
    this.swipes.set(key, swipe);
    return swipe;
  }

  private queueReversal(key: string, swipe: SwipeView): void {
    this.swipes.set(key, swipe);
    swipe.reversal.state = 'PENDING';
    void this.sendReversal(key);
  }

  private decline(key: string, swipe: SwipeView, reason: SwipeDeclineReason): SwipeView {
    swipe.path = 'DECLINED';
    swipe.declineReason = reason;
    this.swipes.set(key, swipe);
    return swipe;
  }

  private payFromBalance(key: string, school: School, swipe: SwipeView, occurredAt: Date): SwipeView {
    try {
      const record = this.ledger.debitForSale(school, { ...swipe, cardNo: swipe.cardNo! }, occurredAt);
      swipe.path = 'CARD_BALANCE';
      swipe.recordSerial = record.serial;
      swipe.balanceAfterFen = record.balanceAfterFen;
      this.swipes.set(key, swipe);
      return swipe;
    } catch (error) {
      if (!(error instanceof VendorRefusal)) throw error;
      swipe.balanceAfterFen = school.cards.get(swipe.cardNo!)?.balanceFen ?? null;
      const reason: SwipeDeclineReason =
        error.code === 'CARD_LOST'
          ? 'CARD_LOST'
          : error.code === 'CARD_FROZEN'
            ? 'CARD_FROZEN'
            : 'INSUFFICIENT_BALANCE';
      return this.decline(key, swipe, reason);
    }
  }

  private async askPlatform(
    config: PlatformConfig,
    body: DeductionBody,
  ): Promise<{
    platform: Partial<SwipeView['platform']> & { outcome: PlatformOutcome };
    needsReversal: boolean;
    cardNo?: string;
  }> {
    const attempts: AttemptView[] = [];
    const wasInconclusive = () => attempts.some((a) => INCONCLUSIVE.includes(a.result));
    for (let number = 1; number <= config.maxAttempts; number += 1) {
      const attempt = await this.attemptDeduction(config, body, number);
      attempts.push(attempt.view);
      if (attempt.answer) {
        const { decision, reason, deductionId, status, cardNo } = attempt.answer;
        return {
          cardNo,
          platform: {
            outcome: decision,
            decision,
            reason: reason ?? null,
            deductionId: deductionId ?? null,
            status: status ?? null,
            attempts,
          },
          needsReversal: false,
        };
      }
      if (attempt.view.result === 'REJECTED') {
        // An earlier unanswered attempt may still have been approved: void it to be safe.
        return {
          platform: { outcome: 'REJECTED', reason: attempt.view.detail, attempts },
          needsReversal: wasInconclusive(),
        };
      }
      if (attempt.view.result === 'CONNECT_FAILED') {
        // Seed 000 §2.3: on a connect failure the card system decides; ours pays from the balance at once.
        return { platform: { outcome: 'CONNECT_FAILED', attempts }, needsReversal: true };
      }
      if (number < config.maxAttempts) await delay(config.retryDelayMs);
    }
    return { platform: { outcome: 'NO_ANSWER', attempts }, needsReversal: true };
  }

  private async attemptDeduction(
    config: PlatformConfig,
    body: object,
    number: number,
  ): Promise<AttemptOutcome> {
    const startedAt = new Date();
    const result = await signedRequest(config, { method: 'POST', path: DEDUCTIONS_PATH, body });
    const { answer, ...seen } = interpret(result);
    return {
      view: {
        number,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        ...seen,
      },
      answer,
    };
  }

  private async sendReversal(key: string): Promise<void> {
    const swipe = this.swipes.get(key);
    if (this.closed || !swipe || swipe.reversal.state !== 'PENDING' || this.reversalsSending.has(key)) return;
    const config = this.platforms.get(swipe.schoolCode);
    if (!config) return; // reconfiguring the platform calls retryReversalsNow
    this.reversalsSending.add(key);
    try {
      swipe.reversal.attempts += 1;
      const result = await signedRequest(config, {
        method: 'POST',
        path: `${DEDUCTIONS_PATH}/${encodeURIComponent(swipe.txnNo)}/reversal`,
        body: {},
      });
      if (result.kind === 'RESPONSE' && result.status >= 200 && result.status < 300) {
        swipe.reversal.state = 'ACKNOWLEDGED';
        swipe.reversal.lastResult = `HTTP ${result.status}`;
        swipe.reversal.acknowledgedAt = new Date().toISOString();
        return;
      }
      swipe.reversal.lastResult =
        result.kind === 'RESPONSE' ? `HTTP ${result.status}` : `${result.kind}: ${result.detail}`;
    } finally {
      this.reversalsSending.delete(key);
    }
    if (this.closed || this.swipes.get(key) !== swipe) return;
    const wait = Math.min(
      config.reversalRetryMs * 2 ** (swipe.reversal.attempts - 1),
      config.reversalRetryMaxMs,
    );
    const timer = setTimeout(() => {
      this.reversalTimers.delete(key);
      void this.sendReversal(key);
    }, wait);
    timer.unref();
    this.reversalTimers.set(key, timer);
  }
}
