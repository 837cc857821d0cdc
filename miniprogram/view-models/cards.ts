/** Which card to show and how the card home reads. */
import type { BindingDetail, BindingView, MeResponse, WithholdingView } from '../shared/api';
import {
  agreementStatusLabel,
  bindingStatusLabel,
  cardStatusLabel,
  formatBalance,
  formatFen,
  relationLabel,
} from '../shared/format';

/** Cards still worth showing: unbound ones are gone for the person, lost ones still need to be seen. */
export function visibleBindings(bindings: BindingView[]): BindingView[] {
  return bindings.filter((binding) => binding.status !== 'UNBOUND');
}

/** The wanted card when it is still bound, else the remembered one, else the first; null when none. */
export function chooseCard(
  bindings: BindingView[],
  ...preferred: Array<string | null | undefined>
): string | null {
  const visible = visibleBindings(bindings);
  for (const id of preferred) {
    if (id && visible.some((binding) => binding.id === id)) return id;
  }
  return visible.length ? visible[0].id : null;
}

export interface CardTab {
  id: string;
  label: string;
  className: string;
}

/** The switcher a parent with several children's cards sees at the top of the card home. */
export function cardTabs(bindings: BindingView[], currentId: string): CardTab[] {
  return visibleBindings(bindings).map((binding) => ({
    id: binding.id,
    label: `${binding.holderName} · 尾号${binding.cardNo.slice(-4)}`,
    className: binding.id === currentId ? 'card-tab card-tab-current' : 'card-tab',
  }));
}

export interface CardHome {
  id: string;
  schoolName: string;
  cardNo: string;
  holderName: string;
  relationLabel: string;
  statusLabel: string;
  cardStatusLabel: string;
  balanceText: string;
  isActive: boolean;
  isLost: boolean;
  statusColor: 'success' | 'danger';
  /** Only an active binding can be recharged (a lost card would take the money and not spend it). */
  rechargeDisabled: boolean;
}

export function toCardHome(detail: BindingDetail): CardHome {
  return {
    id: detail.id,
    schoolName: detail.school.name,
    cardNo: detail.cardNo,
    holderName: detail.holderName,
    relationLabel: relationLabel(detail.relation),
    statusLabel: bindingStatusLabel(detail.status),
    cardStatusLabel: detail.cardStatus ? cardStatusLabel(detail.cardStatus) : '',
    // balanceUnavailable: the card system did not answer; never show that as ¥0.00.
    balanceText: detail.balanceUnavailable ? formatBalance(null) : formatBalance(detail.balanceFen),
    isActive: detail.status === 'ACTIVE',
    isLost: detail.status === 'LOST',
    statusColor: detail.status === 'ACTIVE' ? 'success' : 'danger',
    rechargeDisabled: detail.status !== 'ACTIVE',
  };
}

export interface WithholdingSummary {
  statusLabel: string;
  isActive: boolean;
  /** Whether this very card's swipes are the ones the agreement pays. */
  paysThisCard: boolean;
  text: string;
}

export function withholdingFor(items: WithholdingView[], schoolId: string): WithholdingView | null {
  return items.find((item) => item.schoolId === schoolId) ?? null;
}

export function toWithholdingSummary(item: WithholdingView | null, bindingId: string): WithholdingSummary {
  const status = item?.status ?? 'NONE';
  const cards = item?.cards ?? [];
  const paysThisCard = cards.some((card) => card.bindingId === bindingId);
  let text = '开通后，食堂刷卡由支付宝免密支付';
  if (status === 'ACTIVE')
    text = paysThisCard
      ? '食堂刷卡由支付宝免密支付'
      : `已为${cards.map((card) => `尾号${card.cardNo.slice(-4)}`).join('、')}的卡开通，可在代扣页加上这张卡`;
  if (status === 'PENDING') text = '正在等待支付宝确认签约';
  return { statusLabel: agreementStatusLabel(status), isActive: status === 'ACTIVE', paysThisCard, text };
}

export interface DebtsSummary {
  hasDebts: boolean;
  text: string;
}

export function toDebtsSummary(debts: MeResponse['debts']): DebtsSummary {
  if (!debts.count) return { hasDebts: false, text: '' };
  return {
    hasDebts: true,
    text: `您有 ${debts.count} 笔消费支付宝没有扣款成功，共 ${formatFen(debts.totalFen)}，点此查看并还款。`,
  };
}
