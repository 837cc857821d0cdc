import {
  deductionFailureReason,
  formatBeijingDateTime,
  formatFen,
  relationLabel,
} from '../../../../shared/format.js';
import { findWithholdingPayer, listLiveBindingsOfCard } from '../../db/repos/cards/bindings.js';
import type { Deps } from '../../deps.js';
import { outboxRow, queueMessage, sendToUser, wakeMessageSender } from './outbox.js';
import type { NewUserMessage } from '../../db/repos/messages/messages.js';

/**
 * The platform's events that users may be told about (issue #12 "Messages"), each queued once per event
 * (its dedup key) for the users it concerns. The sender (sending.ts) delivers only to subscribers.
 */

function cardLabel(holderName: string | null | undefined, cardNo: string): string {
  return holderName ? `${holderName}（尾号${cardNo.slice(-4)}）` : `尾号${cardNo.slice(-4)}`;
}

/**
 * A recharge is on the card: its payer hears it, with the card and the amount. The crediting statement
 * queues it (repos/recharge markCredited), so it exists exactly when the credit does; the holder's name is
 * read before, beside the card-system call, to keep that statement a single round trip.
 */
export function rechargeCreditedMessage(
  deps: Pick<Deps, 'clock'>,
  order: { id: string; userId: string; schoolId: string; cardNo: string; amountFen: number },
  holderName: string | null | undefined,
): NewUserMessage {
  return outboxRow({
    kind: 'RECHARGE_CREDITED',
    userId: order.userId,
    schoolId: order.schoolId,
    dedupKey: `recharge-credited:${order.id}`,
    values: [
      formatFen(order.amountFen),
      cardLabel(holderName, order.cardNo),
      formatBeijingDateTime(deps.clock.now().toISOString()),
    ],
  });
}

/**
 * A collection attempt ended: the payer hears when a swipe first fails (it will be retried) and when it
 * turns into arrears (with the amount; swipes are declined until repaid).
 */
export async function announceCollection(
  deps: Pick<Deps, 'db' | 'pool' | 'clock'>,
  deduction: {
    id: string;
    schoolId: string;
    cardNo: string | null;
    amountFen: number | null;
    payerUserId: string | null;
    status: string;
  },
  outcome: { status: string; lastErrorCode: string | null },
): Promise<void> {
  if (!deduction.payerUserId || !deduction.cardNo || !deduction.amountFen) return;
  const firstFailure = outcome.status === 'RETRYING' && deduction.status === 'PENDING';
  if (!firstFailure && outcome.status !== 'ARREARS') return;
  const payer = await findWithholdingPayer(deps.db, deduction.schoolId, deduction.cardNo);
  const card = cardLabel(payer?.holderName, deduction.cardNo);
  await sendToUser(deps, {
    kind: firstFailure ? 'WITHHOLDING_FAILED' : 'ARREARS',
    userId: deduction.payerUserId,
    schoolId: deduction.schoolId,
    dedupKey: `${firstFailure ? 'withholding-failed' : 'arrears'}:${deduction.id}`,
    values: firstFailure
      ? [formatFen(deduction.amountFen), card, deductionFailureReason(outcome.lastErrorCode)]
      : [formatFen(deduction.amountFen), card, '请在小程序中还款，还清前食堂刷卡不能使用支付宝代扣'],
  });
}

/** The card was reported lost: everyone who bound it hears it (the reporter too: a record of it). */
export async function announceCardLost(
  deps: Pick<Deps, 'db' | 'pool' | 'clock'>,
  card: { schoolId: string; cardNo: string; holderName: string },
): Promise<void> {
  const at = deps.clock.now();
  let queued = false;
  for (const binding of await listLiveBindingsOfCard(deps.db, card.schoolId, card.cardNo)) {
    queued =
      (await queueMessage(deps.db, deps, {
        kind: 'CARD_LOST',
        userId: binding.userId,
        schoolId: card.schoolId,
        dedupKey: `card-lost:${binding.id}:${at.getTime()}`,
        values: [
          cardLabel(card.holderName, card.cardNo),
          formatBeijingDateTime(at.toISOString()),
          '找回卡片后可在小程序中解挂，或到学校一卡通中心办理',
        ],
      })) || queued;
  }
  if (queued) wakeMessageSender(deps);
}

/** Someone else bound the card: its holder hears it (and can remove that binding in the mini-program). */
export async function announceCardBound(
  deps: Pick<Deps, 'db' | 'pool' | 'clock'>,
  binding: {
    id: string;
    userId: string;
    schoolId: string;
    cardNo: string;
    holderName: string;
    relation: string;
  },
): Promise<void> {
  const holder = (await listLiveBindingsOfCard(deps.db, binding.schoolId, binding.cardNo)).find(
    (b) => b.relation === 'SELF' && b.id !== binding.id,
  );
  if (!holder || holder.userId === binding.userId) return;
  await sendToUser(deps, {
    kind: 'CARD_BOUND',
    userId: holder.userId,
    schoolId: binding.schoolId,
    dedupKey: `card-bound:${binding.id}`,
    values: [
      cardLabel(binding.holderName, binding.cardNo),
      relationLabel(binding.relation),
      formatBeijingDateTime(deps.clock.now().toISOString()),
    ],
  });
}
