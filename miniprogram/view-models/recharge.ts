/** Recharge amounts (integer fen, never floats) and how an order's state reads. */
import type { RechargeStatus, RechargeView, SchoolView } from '../shared/api';
import { RECHARGE_STATUS_EXPLANATIONS_ZH, formatFen, rechargeStatusLabel } from '../shared/format';
import { MAX_ALIPAY_FEN, MoneyError, yuanToFen } from '../shared/money';

export const PRESET_AMOUNTS_FEN = [2000, 5000, 10000, 20000];

export interface RechargeLimits {
  minFen: number;
  maxFen: number;
}

/** When the school's settings cannot be read, the server still enforces them (AMOUNT_OUT_OF_RANGE). */
export const UNKNOWN_LIMITS: RechargeLimits = { minFen: 1, maxFen: MAX_ALIPAY_FEN };

export function limitsOf(school: SchoolView | null): RechargeLimits {
  return school ? { minFen: school.rechargeMinFen, maxFen: school.rechargeMaxFen } : UNKNOWN_LIMITS;
}

export function limitsText(limits: RechargeLimits): string {
  if (limits === UNKNOWN_LIMITS) return '';
  return `单笔可充 ${formatFen(limits.minFen)} – ${formatFen(limits.maxFen)}`;
}

export interface PresetButton {
  fen: number;
  label: string;
  disabled: boolean;
  buttonType: 'primary' | 'default';
}

export function presetButtons(limits: RechargeLimits, selectedFen: number): PresetButton[] {
  return PRESET_AMOUNTS_FEN.map((fen) => ({
    fen,
    label: `${fen / 100} 元`,
    disabled: fen < limits.minFen || fen > limits.maxFen,
    buttonType: fen === selectedFen ? 'primary' : 'default',
  }));
}

/** An amount the school accepts: '' when it is fine, else why not. */
export function amountProblem(amountFen: number, limits: RechargeLimits): string {
  if (amountFen < limits.minFen) return `单笔最少充值 ${formatFen(limits.minFen)}`;
  if (amountFen > limits.maxFen) return `单笔最多充值 ${formatFen(limits.maxFen)}`;
  return '';
}

/**
 * What a person typed in yuan ("50", "12.5", "0.01") → integer fen, through shared/money's string
 * arithmetic so that 0.1 + 0.2 never happens. Empty input is no amount, not an error.
 */
export function parseAmountInput(text: string, limits: RechargeLimits): { amountFen: number; error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { amountFen: 0, error: '' };
  let amountFen: number;
  try {
    amountFen = yuanToFen(trimmed);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    return {
      amountFen: 0,
      error: /^0+(\.0*)?$/.test(trimmed) ? '充值金额需大于 0' : '请输入正确的金额，最多两位小数',
    };
  }
  return { amountFen, error: amountProblem(amountFen, limits) };
}

export function payButtonText(amountFen: number): string {
  return amountFen > 0 ? `支付宝支付 ${formatFen(amountFen)}` : '请选择充值金额';
}

const SETTLED: RechargeStatus[] = ['CREDITED', 'CREDIT_FAILED', 'CLOSED', 'REFUNDED'];

/** No further change is coming without someone acting (CREATED and PAID still move on their own). */
export function isRechargeSettled(status: RechargeStatus): boolean {
  return SETTLED.indexOf(status) >= 0;
}

const RESULT_TYPES: Record<RechargeStatus, 'success' | 'wait' | 'warning' | 'info'> = {
  CREATED: 'wait',
  PAID: 'wait',
  CREDITED: 'success',
  CREDIT_FAILED: 'warning',
  CLOSED: 'info',
  REFUNDED: 'info',
};

export interface RechargeResult {
  status: RechargeStatus;
  title: string;
  explanation: string;
  resultType: 'success' | 'wait' | 'warning' | 'info';
  amountText: string;
  cardNo: string;
  bindingId: string;
  isCredited: boolean;
}

export function toRechargeResult(order: RechargeView): RechargeResult {
  return {
    status: order.status,
    title: rechargeStatusLabel(order.status),
    explanation: RECHARGE_STATUS_EXPLANATIONS_ZH[order.status] ?? '',
    resultType: RESULT_TYPES[order.status] ?? 'info',
    amountText: formatFen(order.amountFen),
    cardNo: order.cardNo,
    bindingId: order.bindingId,
    isCredited: order.status === 'CREDITED',
  };
}
