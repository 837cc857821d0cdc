/**
 * JSON shapes of the card-system sandbox's control API (docs/sandbox.md), shared by the routes and the typed
 * client. Amounts are integer fen, times ISO-8601 strings.
 */
import type { FaultKind } from './faults.js';
import type { CardIdentity, CardStatus, PayChannel, RecordType } from './ledger.js';
import type { CardServiceOperation } from './wsdl.js';

export type { CardIdentity, CardStatus, FaultKind, PayChannel, RecordType, CardServiceOperation };

export interface CreateSchoolInput {
  code: string;
  name: string;
  /** SOAP credentials; generated when absent. */
  username?: string;
  password?: string;
  /** Whether the vendor offers 解挂 online (the UnLoss operation); default true. */
  supportsUnLoss?: boolean;
}

export interface SchoolView {
  code: string;
  name: string;
  /** The school's SOAP endpoint; the WSDL is at `${endpoint}?wsdl`. */
  endpoint: string;
  wsdlUrl: string;
  username: string;
  password: string;
  supportsUnLoss: boolean;
  platform: PlatformView | null;
  stats: { wsdlFetches: number; calls: Record<string, number> };
}

export interface PlatformConfigInput {
  /** Where our BFF listens, e.g. http://127.0.0.1:3000; the gateway posts to `${baseUrl}/gateway/v1/...`. */
  baseUrl: string;
  clientId: string;
  secret: string;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Deduction attempts per swipe with the same txnNo (first try included). */
  maxAttempts?: number;
  retryDelayMs?: number;
  /** First delay between reversal attempts; doubles up to reversalRetryMaxMs. */
  reversalRetryMs?: number;
  reversalRetryMaxMs?: number;
}

export type PlatformView = Required<Omit<PlatformConfigInput, 'secret'>>;

export interface CreateCardInput {
  cardNo?: string;
  name: string;
  identity?: CardIdentity;
  status?: CardStatus;
  balanceFen?: number;
  studentNo?: string | null;
}

export interface CardView {
  schoolCode: string;
  cardNo: string;
  name: string;
  identity: CardIdentity;
  status: CardStatus;
  balanceFen: number;
  studentNo: string | null;
  alipayBind: { alipayUserId: string; password: string; boundAt: string } | null;
}

export interface RecordView {
  serial: string;
  occurredAt: string;
  type: RecordType;
  amountFen: number;
  balanceAfterFen: number;
  channel: PayChannel;
  place: string;
  terminalId: string;
  refNo: string;
}

export interface FaultInput {
  schoolCode?: string;
  operation?: CardServiceOperation | '*';
  kind: FaultKind;
  times?: number;
  latencyMs?: number;
  faultCode?: 'soap:Server' | 'soap:Client';
  vendorCode?: string;
  message?: string;
}

export interface FaultView {
  id: string;
  schoolCode: string | null;
  operation: CardServiceOperation | '*';
  kind: FaultKind;
  remaining: number | null;
  latencyMs: number;
  faultCode: 'soap:Server' | 'soap:Client';
  vendorCode: string;
  message: string;
  hits: number;
}

export interface SwipeInput {
  schoolCode: string;
  /** The card swiped, or (instead) the membership-card dynamic code scanned from the Alipay wallet. */
  cardNo?: string;
  dynamicCode?: string;
  amountFen: number;
  terminalId: string;
  /** The POS transaction number; generated when absent. Repeating one returns the first outcome. */
  txnNo?: string;
  place?: string;
  occurredAt?: string;
}

export type SwipePath = 'ALIPAY' | 'CARD_BALANCE' | 'DECLINED';
export type SwipeDeclineReason =
  | 'CARD_NOT_FOUND'
  | 'CARD_LOST'
  | 'CARD_FROZEN'
  | 'INSUFFICIENT_BALANCE'
  /** A dynamic code the platform would not turn into a card (unknown, used, expired, or not the school's). */
  | 'CODE_REFUSED'
  /** A dynamic code while the platform could not be asked: without it the till does not know the card. */
  | 'PLATFORM_UNAVAILABLE';

/**
 * What came of asking the platform:
 * NOT_CALLED (card not bound or refused locally), NOT_CONFIGURED (no platform set for the school),
 * APPROVED / DECLINED (the platform's decision), REJECTED (a 4xx: the platform refused the request itself),
 * CONNECT_FAILED (no connection), NO_ANSWER (every attempt timed out or failed after connecting).
 */
export type PlatformOutcome =
  'NOT_CALLED' | 'NOT_CONFIGURED' | 'APPROVED' | 'DECLINED' | 'REJECTED' | 'CONNECT_FAILED' | 'NO_ANSWER';

export type AttemptResult =
  | 'ANSWERED'
  | 'REJECTED'
  | 'SERVER_ERROR'
  | 'BAD_ANSWER'
  | 'READ_TIMEOUT'
  | 'CONNECTION_LOST'
  | 'CONNECT_FAILED';

export interface AttemptView {
  number: number;
  startedAt: string;
  durationMs: number;
  result: AttemptResult;
  httpStatus: number | null;
  detail: string | null;
}

export type ReversalState = 'NOT_NEEDED' | 'PENDING' | 'ACKNOWLEDGED';

export interface SwipeView {
  txnNo: string;
  schoolCode: string;
  /** For a dynamic code: the card the platform named (null when it named none). */
  cardNo: string | null;
  dynamicCode: string | null;
  amountFen: number;
  terminalId: string;
  place: string;
  occurredAt: string;
  path: SwipePath;
  declineReason: SwipeDeclineReason | null;
  /** The card balance right after the swipe (unchanged when Alipay paid); null when the card is unknown. */
  balanceAfterFen: number | null;
  /** The card record this swipe wrote, if any. */
  recordSerial: string | null;
  platform: {
    outcome: PlatformOutcome;
    decision: 'APPROVED' | 'DECLINED' | null;
    reason: string | null;
    deductionId: string | null;
    status: string | null;
    attempts: AttemptView[];
  };
  reversal: {
    state: ReversalState;
    attempts: number;
    lastResult: string | null;
    acknowledgedAt: string | null;
  };
}

export interface ControlErrorBody {
  error: { code: string; message: string; field?: string };
}

/** What a campus device's decoding SDK handed out for a code (as the Alipay sandbox's /control/campus-codes returns it). */
export interface DecodedCampusCode {
  /** base64 of final_data. */
  finalData: string;
  /** base64 of user_data. */
  userData: string;
  templateId: number;
  encodeType: string;
  /** in_use_time, ms. */
  inUseTime: number;
}

export interface CampusCodeScanInput {
  schoolCode: string;
  terminalId: string;
  amountFen: number;
  code: DecodedCampusCode;
  /** The device's transaction number; generated when absent. Repeating one returns the first scan. */
  txnNo?: string;
  /** The device clock at the scan; default now. */
  scannedAt?: string;
}

/** CODE_TIMEOUT: the code is older than 2 minutes; ALREADY_SCANNED: this device took it in the last 2 minutes. */
export type ScanRefusal = 'CODE_TIMEOUT' | 'ALREADY_SCANNED' | 'NOT_CONFIGURED';

export interface CampusCodeScanView {
  txnNo: string;
  schoolCode: string;
  terminalId: string;
  amountFen: number;
  finalData: string;
  scannedAt: string;
  /** PAID: the device said "paid" offline; the platform charges Alipay after the upload. */
  result: 'PAID' | 'REFUSED';
  refusal: ScanRefusal | null;
  uploadState: 'NOT_NEEDED' | 'QUEUED' | 'UPLOADED';
  batchId: string | null;
  /** The platform's answer to this payment (ACCEPTED, DUPLICATE_CODE, EXPIRED, REJECTED …), once uploaded. */
  answer: {
    txnNo: string;
    result: string;
    reason?: string;
    paymentNo?: string;
    status?: string;
    late?: boolean;
  } | null;
}

export interface CampusCodeUploadSettings {
  /** Keep payments on the device instead of uploading them. */
  held: boolean;
  /** How often the device uploads what it has. */
  intervalMs: number;
  /** Payments per upload, at most 500. */
  batchSize: number;
}

export interface CampusCodeBatchView {
  batchId: string;
  schoolCode: string;
  txnNos: string[];
  /** FAILED batches (no 2xx) go out again, unchanged, on the next round. */
  state: 'SENDING' | 'ANSWERED' | 'FAILED';
  sends: number;
  lastResult: string | null;
  lastSentAt: string | null;
  answeredAt: string | null;
}
