/** Which card to show and how the card home reads. */
import type {
  BindingDetail,
  BindingView,
  MeResponse,
  OtherBindingView,
  WalletCardView,
  WithholdingView,
} from '../shared/api';
import { fenToYuan } from '../shared/money';
import {
  agreementStatusLabel,
  bindingApprovalLabel,
  bindingProofLabel,
  formatBeijingDateTime,
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
  statusColor: 'success' | 'danger' | 'warning';
  /** Only an active binding can be recharged (a lost card would take the money and not spend it). */
  rechargeDisabled: boolean;
  /** A parent's binding waiting for the holder's approval: nothing but unbinding until then. */
  isPending: boolean;
  /** The user is the card's holder: they see and manage the other bindings. */
  isHolder: boolean;
  /** Lost: 解挂 here, or where to go instead. */
  canCancelLoss: boolean;
  lossHelpText: string;
  /** The low-balance message threshold in yuan ('' when none). */
  lowBalanceYuan: string;
}

/**
 * How the card home reads. The card system's own state wins over the binding's: a card frozen or reported
 * lost at the school's counter shows so, not "正常使用".
 */
export function toCardHome(detail: BindingDetail): CardHome {
  const isPending = detail.approval === 'PENDING';
  const isLost = detail.status === 'LOST' || detail.cardStatus === 'LOST';
  const isFrozen = detail.cardStatus === 'FROZEN';
  const statusLabel = isPending
    ? '等待持卡人同意'
    : isFrozen
      ? cardStatusLabel('FROZEN')
      : isLost
        ? bindingStatusLabel('LOST')
        : bindingStatusLabel(detail.status);
  return {
    id: detail.id,
    schoolName: detail.school.name,
    cardNo: detail.cardNo,
    holderName: detail.holderName,
    relationLabel: relationLabel(detail.relation),
    statusLabel,
    cardStatusLabel: detail.cardStatus ? cardStatusLabel(detail.cardStatus) : '',
    // balanceUnavailable: the card system did not answer; never show that as ¥0.00.
    balanceText: isPending
      ? '同意后可查看'
      : detail.balanceUnavailable
        ? formatBalance(null)
        : formatBalance(detail.balanceFen),
    isActive: detail.status === 'ACTIVE' && !isPending && !isFrozen && !isLost,
    isLost,
    statusColor: isPending
      ? 'warning'
      : detail.status === 'ACTIVE' && !isFrozen && !isLost
        ? 'success'
        : 'danger',
    rechargeDisabled: detail.status !== 'ACTIVE' || isPending || isFrozen,
    isPending,
    isHolder: detail.relation === 'SELF',
    canCancelLoss: isLost && detail.canCancelLoss,
    lossHelpText: isLost
      ? detail.canCancelLoss
        ? '找回卡片后，可以在这里解挂，解挂后立即恢复使用。'
        : '学校一卡通暂不支持在线解挂，找回卡片后请携带证件到学校一卡通服务中心解挂。'
      : '',
    lowBalanceYuan: detail.lowBalanceFen === null ? '' : fenToYuan(detail.lowBalanceFen),
  };
}

export interface OtherBindingRow {
  id: string;
  title: string;
  detail: string;
  canApprove: boolean;
}

/** The other bindings of the holder's card: who (relation), how they proved it, whether they wait or pay. */
export function toOtherBindingRows(items: OtherBindingView[]): OtherBindingRow[] {
  return items.map((item) => ({
    id: item.id,
    title: `${relationLabel(item.relation)} · ${formatBeijingDateTime(item.createdAt)} 绑定`,
    detail: [
      bindingProofLabel(item.proof),
      item.approval === 'PENDING' ? bindingApprovalLabel(item.approval) : '',
      item.isWithholdingPayer ? '为这张卡支付食堂刷卡' : '',
    ]
      .filter(Boolean)
      .join(' · '),
    canApprove: item.approval === 'PENDING',
  }));
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

export interface WalletSummary {
  /** The school offers its card in the Alipay card wallet. */
  isOffered: boolean;
  statusLabel: string;
  text: string;
  /** Show "add to Alipay card wallet" (a claim link exists and the card is in no wallet yet). */
  canAdd: boolean;
  /** Show "open the card wallet" (the card is in this user's wallet). */
  canOpen: boolean;
  claimUrl: string;
}

export function toWalletSummary(walletCard: WalletCardView | null): WalletSummary {
  const none = { isOffered: false, statusLabel: '', text: '', canAdd: false, canOpen: false, claimUrl: '' };
  if (!walletCard) return none;
  const claimUrl = walletCard.claimUrl ?? '';
  if (walletCard.state === 'IN_MY_WALLET') {
    return {
      ...none,
      isOffered: true,
      statusLabel: '已添加',
      text: '在支付宝卡包中查看余额，付款时出示动态码',
      canOpen: true,
      claimUrl,
    };
  }
  if (walletCard.state === 'IN_OTHER_WALLET') {
    return {
      ...none,
      isOffered: true,
      statusLabel: '已添加',
      text: '这张卡已添加到其他支付宝账户的卡包',
      claimUrl,
    };
  }
  return {
    ...none,
    isOffered: true,
    statusLabel: '未添加',
    text: claimUrl ? '添加后可在卡包查看余额，食堂出示动态码即可付款' : '学校暂未提供领卡入口',
    canAdd: !!claimUrl,
    claimUrl,
  };
}
