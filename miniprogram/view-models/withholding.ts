/**
 * The withholding page: one agreement per payer and school, covering the cards the payer picks (a parent:
 * several children), each with the payer's own limits under the school's.
 */
import type { BindingView, SchoolView, WithholdingCardRequest, WithholdingView } from '../shared/api';
import { agreementStatusLabel, formatBeijingDateTime, formatFen } from '../shared/format';
import { MoneyError, fenToYuan, yuanToFen } from '../shared/money';

export interface CardChoice {
  bindingId: string;
  label: string;
  checked: boolean;
  /** Typed limits in yuan; empty = the school's. */
  txnLimitYuan: string;
  dailyLimitYuan: string;
  /** For a covered card: the limits in force and whether the card system has bound it yet. */
  statusText: string;
  error: string;
}

export interface WithholdingPage {
  schoolId: string;
  schoolName: string;
  statusLabel: string;
  isActive: boolean;
  isPending: boolean;
  /** Signing makes sense: the school offers it, a card is usable and nothing is signed yet. */
  canSign: boolean;
  schoolOffersIt: boolean;
  /** Why there is no sign button, when the school does not offer withholding. */
  unavailableText: string;
  /** The school's limits (null when they could not be read: the server still checks). */
  limits: { txnLimitFen: number; dailyLimitFen: number } | null;
  txnLimitText: string;
  dailyLimitText: string;
  signedAtText: string;
  /** Which cards' swipes an active agreement pays. */
  payingCardsText: string;
  choices: CardChoice[];
}

function cardLabel(card: { holderName: string; cardNo: string }): string {
  return `${card.holderName} · 尾号${card.cardNo.slice(-4)}`;
}

/** The person's usable cards at the school: the ones they can put under one agreement. */
export function cardChoices(
  bindings: BindingView[],
  schoolId: string,
  item: WithholdingView | null,
  openedFor: string,
): CardChoice[] {
  const covering = item && (item.status === 'ACTIVE' || item.status === 'PENDING') ? item.cards : [];
  return bindings
    .filter((b) => b.school.id === schoolId && b.status === 'ACTIVE' && b.approval !== 'PENDING')
    .map((binding) => {
      const covered = covering.find((card) => card.bindingId === binding.id);
      return {
        bindingId: binding.id,
        label: cardLabel(binding),
        checked: covered ? true : covering.length === 0 && binding.id === openedFor,
        txnLimitYuan: covered?.hasOwnLimits ? fenToYuan(covered.txnLimitFen) : '',
        dailyLimitYuan: covered?.hasOwnLimits ? fenToYuan(covered.dailyLimitFen) : '',
        statusText: covered
          ? `单笔 ${formatFen(covered.txnLimitFen)} · 每日 ${formatFen(covered.dailyLimitFen)}${covered.isBoundAtCardSystem ? '' : ' · 正在开通'}`
          : '',
        error: '',
      };
    });
}

export function toWithholdingPage(
  detail: { school: { id: string; name: string }; status: string },
  item: WithholdingView | null,
  school: SchoolView | null,
  choices: CardChoice[],
): WithholdingPage {
  const status = item?.status ?? 'NONE';
  const limits =
    item?.limits ??
    (school ? { txnLimitFen: school.txnLimitFen, dailyLimitFen: school.dailyLimitFen } : null);
  // Without the school view, an agreement item for the school is proof enough that it offers withholding.
  const schoolOffersIt = school ? school.withholdingEnabled : !!item;
  const isActive = status === 'ACTIVE';
  const isPending = status === 'PENDING';
  return {
    schoolId: detail.school.id,
    schoolName: detail.school.name,
    statusLabel: agreementStatusLabel(status),
    isActive,
    isPending,
    canSign: schoolOffersIt && choices.length > 0 && !isActive && !isPending,
    schoolOffersIt,
    unavailableText: schoolOffersIt ? '' : '学校暂未开通刷卡免密代扣',
    limits,
    txnLimitText: limits ? formatFen(limits.txnLimitFen) : '以学校设置为准',
    dailyLimitText: limits ? formatFen(limits.dailyLimitFen) : '以学校设置为准',
    signedAtText: item?.signedAt ? formatBeijingDateTime(item.signedAt) : '',
    payingCardsText: isActive || isPending ? (item?.cards ?? []).map(cardLabel).join('、') : '',
    choices,
  };
}

function parseLimit(text: string, maxFen: number | null, what: string): { fen?: number; error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: '' };
  let fen: number;
  try {
    fen = yuanToFen(trimmed);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    return { error: `${what}请输入金额，如 30 或 12.50` };
  }
  if (maxFen !== null && fen > maxFen) return { error: `${what}不能超过学校的 ${formatFen(maxFen)}` };
  return { fen, error: '' };
}

/** The checked cards as the API wants them; errors per card (limits above the school's, bad amounts). */
export function chosenCards(
  choices: CardChoice[],
  limits: { txnLimitFen: number; dailyLimitFen: number } | null,
): { cards: WithholdingCardRequest[]; choices: CardChoice[]; error: string } {
  const cards: WithholdingCardRequest[] = [];
  const checked = choices.map((choice) => {
    if (!choice.checked) return { ...choice, error: '' };
    const txn = parseLimit(choice.txnLimitYuan, limits?.txnLimitFen ?? null, '单笔限额');
    const daily = parseLimit(choice.dailyLimitYuan, limits?.dailyLimitFen ?? null, '每日限额');
    const error = txn.error || daily.error;
    if (!error)
      cards.push({
        bindingId: choice.bindingId,
        ...(txn.fen !== undefined ? { txnLimitFen: txn.fen } : {}),
        ...(daily.fen !== undefined ? { dailyLimitFen: daily.fen } : {}),
      });
    return { ...choice, error };
  });
  const hasErrors = checked.some((choice) => choice.error);
  const picked = checked.filter((choice) => choice.checked).length;
  return {
    cards: hasErrors ? [] : cards,
    choices: checked,
    error: picked === 0 ? '请至少选择一张卡' : '',
  };
}
