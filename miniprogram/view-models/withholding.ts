/** The withholding page: what the agreement is, its limits and its state for one school. */
import type { BindingDetail, SchoolView, WithholdingView } from '../shared/api';
import { agreementStatusLabel, formatBeijingDateTime, formatFen } from '../shared/format';

export interface WithholdingPage {
  schoolId: string;
  schoolName: string;
  cardText: string;
  statusLabel: string;
  isActive: boolean;
  isPending: boolean;
  /** Signing makes sense: the school offers it, the card is usable and nothing is signed yet. */
  canSign: boolean;
  schoolOffersIt: boolean;
  /** Why there is no sign button, when the school does not offer withholding. */
  unavailableText: string;
  txnLimitText: string;
  dailyLimitText: string;
  signedAtText: string;
  /** Which card's swipes an active agreement pays. */
  payingCardText: string;
}

export function toWithholdingPage(
  detail: BindingDetail,
  item: WithholdingView | null,
  school: SchoolView | null,
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
    cardText: `${detail.holderName} · ${detail.cardNo}`,
    statusLabel: agreementStatusLabel(status),
    isActive,
    isPending,
    canSign: schoolOffersIt && detail.status === 'ACTIVE' && !isActive && !isPending,
    schoolOffersIt,
    unavailableText: schoolOffersIt ? '' : '学校暂未开通刷卡免密代扣',
    txnLimitText: limits ? formatFen(limits.txnLimitFen) : '以学校设置为准',
    dailyLimitText: limits ? formatFen(limits.dailyLimitFen) : '以学校设置为准',
    signedAtText: item?.signedAt ? formatBeijingDateTime(item.signedAt) : '',
    payingCardText: item?.card ? `${item.card.holderName} · ${item.card.cardNo}` : '',
  };
}
