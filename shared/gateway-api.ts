/**
 * The POS gateway API (`/gateway/v1`, DESIGN §6.2, docs/gateway-api.md): the answer shapes shared by the
 * platform and the reference client in scripts/pos-client.ts. Signing is in gateway-signature.ts.
 */

/**
 * Why a swipe is DECLINED, in the order the rules are checked (docs/gateway-api.md §3). The CODE_* reasons
 * are for swipes identified by a membership-card dynamic code instead of a card number (DESIGN §6.4).
 */
export const DECLINE_REASONS = [
  'CODE_UNKNOWN',
  'CODE_USED',
  'CODE_EXPIRED',
  'SCHOOL_SUSPENDED',
  'WITHHOLDING_DISABLED',
  'OUTSIDE_TIME_WINDOW',
  'NOT_BOUND',
  'CARD_LOST',
  'NOT_SIGNED',
  'IN_ARREARS',
  'OVER_TXN_LIMIT',
  'OVER_DAILY_LIMIT',
  'REVERSED',
] as const;

export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** The answer to `POST /deductions` (and to a repeat of it with the same txnNo). */
export interface DeductionAnswer {
  txnNo: string;
  /** The platform's deduction number (also the Alipay out_trade_no of its first charge). */
  deductionId: string;
  decision: 'APPROVED' | 'DECLINED';
  reason?: DeclineReason;
  status: string;
  /**
   * Only for a swipe by dynamic code: the campus card the code stands for (absent when the code resolved to
   * no card), so that the card system can record the sale on it or, when declined, pay from its balance.
   */
  cardNo?: string;
}

// ---- campus code (DESIGN §6.2, §7.5; docs/gateway-api.md) ------------------------------------------------

/** One offline campus-code payment a device uploads: the decoding SDK's outputs plus the sale. */
export interface CampusCodeUpload {
  /** The device's own transaction number; the platform is idempotent on it per school. */
  txnNo: string;
  terminalId: string;
  /** base64 of the SDK's final_data (seed 001 §7: this, not the raw code, is what Alipay charges). */
  finalData: string;
  /** base64 of the SDK's user_data. */
  userData: string;
  /** data_formwork_id as an int (4 or 5). */
  templateId: number;
  /** data_encode_type: GB2312, GBK, GB18030 or UTF-8. */
  encodeType: string;
  /** in_use_time in ms since the epoch. */
  inUseTime: number;
  amountFen: number;
  /** ISO-8601: when the device scanned the code and said "paid". */
  scannedAt: string;
}

export type CampusCodeUploadResult = 'ACCEPTED' | 'DUPLICATE' | 'DUPLICATE_CODE' | 'EXPIRED' | 'REJECTED';

export type CampusCodePaymentStatus =
  'PENDING' | 'RETRYING' | 'PAID' | 'FAILED' | 'SETTLED' | 'EXPIRED' | 'REJECTED' | 'DUPLICATE_CODE';

/** The answer to one uploaded payment. */
export interface CampusCodeUploadItemAnswer {
  txnNo: string;
  result: CampusCodeUploadResult;
  /** REJECTED (and a DUPLICATE of a rejected payment): why, e.g. BAD_STUDENT_NAME, OTHER_SCHOOL, TXN_CONFLICT. */
  reason?: string;
  /** DUPLICATE: what the first upload of this txnNo was answered; everything else is that answer too. */
  firstResult?: Exclude<CampusCodeUploadResult, 'DUPLICATE'>;
  /** Our payment number (also the Alipay out_trade_no of its first charge). Absent for TXN_CONFLICT. */
  paymentNo?: string;
  status?: CampusCodePaymentStatus;
  /** Uploaded more than 24 h (the school's threshold) after the code was made (seed 001 §4). */
  late?: boolean;
}

/** The answer to `POST /campus-code/payments`: one answer per payment, in the order sent. */
export interface CampusCodeUploadAnswer {
  results: CampusCodeUploadItemAnswer[];
  counts: Record<CampusCodeUploadResult, number>;
}

/** `GET /campus-code/payments/:txnNo`. */
export interface CampusCodePaymentDetail {
  txnNo: string;
  paymentNo: string;
  /** The answer the upload got. */
  result: Exclude<CampusCodeUploadResult, 'DUPLICATE'>;
  reason?: string;
  status: CampusCodePaymentStatus;
  amountFen: number;
  terminalId: string;
  scannedAt: string;
  uploadedAt: string;
  generatedAt: string | null;
  late: boolean;
  attempts: Array<{ attemptNo: number; outcome: string; code: string | null; at: string }>;
  nextAttemptAt: string | null;
  paidAt: string | null;
  failedAt: string | null;
}
/**
 * What a till may show for each decline reason (docs/gateway-api.md §3): the card system then pays from the
 * card balance, except for a lost card, a reversed swipe and a refused dynamic code (no card to pay from).
 */
export const DECLINE_REASON_TEXT_ZH: Readonly<Record<DeclineReason, string>> = {
  CODE_UNKNOWN: '会员卡动态码无效，请刷新后重试',
  CODE_USED: '会员卡动态码已使用，请刷新后重试',
  CODE_EXPIRED: '会员卡动态码已过期，请刷新后重试',
  SCHOOL_SUSPENDED: '学校服务已暂停，请用卡内余额',
  WITHHOLDING_DISABLED: '学校未开通支付宝代扣，请用卡内余额',
  OUTSIDE_TIME_WINDOW: '交易时间超出代扣范围，请用卡内余额',
  NOT_BOUND: '未开通支付宝代扣，请用卡内余额',
  CARD_LOST: '此卡已挂失',
  NOT_SIGNED: '支付宝代扣已关闭，请用卡内余额',
  IN_ARREARS: '支付宝代扣有欠款未还，请用卡内余额',
  OVER_TXN_LIMIT: '超过单笔代扣限额，请用卡内余额',
  OVER_DAILY_LIMIT: '超过当日代扣限额，请用卡内余额',
  REVERSED: '交易已撤销',
};

// ---- terminal orders (issue #15, DESIGN §7.6; docs/gateway-api.md "Terminal orders") ----------------------

/** One line of a vending machine's or window's order. */
export interface TerminalOrderItem {
  name: string;
  quantity: number;
  /** Price of one, in fen. */
  unitFen: number;
}

/** `POST /gateway/v1/terminal-orders`: idempotent on (the signing terminal, outOrderNo). */
export interface TerminalOrderRequest {
  /** Must be the signing client's own terminal (Alipay's terminal_id). */
  terminalId: string;
  outOrderNo: string;
  items: TerminalOrderItem[];
  /** Must equal the sum of quantity × unitFen. */
  amountFen: number;
}

export type TerminalOrderStatus = 'CREATED' | 'PAID' | 'CLOSED';
export type DispenseResult = 'OK' | 'PARTIAL' | 'FAILED';

/** The answer to every terminal-order route, and the body of the paid callback. */
export interface TerminalOrderAnswer {
  orderNo: string;
  outOrderNo: string;
  terminalId: string;
  status: TerminalOrderStatus;
  amountFen: number;
  items: TerminalOrderItem[];
  /** Unpaid at this time, the order closes (the machine's timeout). */
  expiresAt: string;
  /** Both shown as QR codes on the machine. */
  pay: {
    /** 当面付扫码: for the Alipay camera, no login (null while Alipay could not be reached; ask again). */
    qrCode: string | null;
    /** alipays://platformapi/startapp?… opening the mini-program's payment page for this order. */
    miniProgramUrl: string;
  };
  paidAt: string | null;
  /** Which way it was paid: QR (Alipay camera) or MINIAPP (the mini-program page). */
  channel: 'QR' | 'MINIAPP' | null;
  closedAt: string | null;
  dispense: { result: DispenseResult; refundFen: number; reportedAt: string } | null;
}

/** `POST /gateway/v1/terminal-orders/:outOrderNo/dispensed`. */
export interface DispenseReport {
  result: 'OK' | 'FAILED';
  /** FAILED: the lines (index into items) and how many of each did not come out; none given = nothing did. */
  failedItems?: Array<{ index: number; quantity: number }>;
}
