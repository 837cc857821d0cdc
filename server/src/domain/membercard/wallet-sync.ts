import {
  claimCardsForSync,
  finishSync,
  recordSyncFailure,
  setWantedTemplate,
  type MemberLevel,
  type MembershipCardRow,
} from '../../db/repos/membercard/cards.js';
import { findProgram } from '../../db/repos/membercard/programs.js';
import type { Executor } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import {
  CardManagementError,
  changeTemplate,
  updatePoints,
  type CardManagementTarget,
} from '../../integrations/membercard/card-management.js';
import { privateKeyOf } from '../../lib/key-references.js';

/**
 * Keeping the wallet card in step with the campus card (DESIGN §6.4): what card management shows is state
 * we push to it, RSA2-signed (integrations/membercard). What triggers an update:
 *   - loss reported through the platform → the LOST template (reportCardLost, in the loss's transaction);
 *   - the card back in use (un-loss) → its level's template again (cardFoundAgain, for the un-loss flow);
 *   - the card system telling us, when card management queries the card, that it is lost or no longer lost,
 *     or that the holder is now staff rather than a student (or back) → that template;
 *   - points: when the school gives points per whole yuan recharged, each credited recharge adds them (in
 *     the crediting statement, db/repos/recharge/recharges.ts markCredited) → /card/update with the total.
 * The card row holds what the card should show (wanted template, points) next to what card management was
 * last told; a change marks it due, and the job `membercard.sync` sends the difference: changeTemplate
 * first, then update. Several changes before a send collapse into one, and a later state never loses to
 * an earlier one. Failures on the way are retried on MEMBERCARD_SYNC_RETRY_MS; a refusal by card management
 * (a non-OK status: bad signature, unknown card) stops until the card changes again or an operator retries
 * (operations.ts, `npm run operator -- membercard resync`).
 * Cards not (yet) in the wallet are not sent anything: cardChange ADD makes them due if they differ.
 */
export const WALLET_SYNC_JOB = 'membercard.sync';

const SWEEP_BATCH = 50;

/** The card was reported lost: its wallet card shows the LOST template. Run inside the loss transaction. */
export function showCardAsLost(db: Executor, schoolId: string, cardNo: string, now: Date): Promise<string[]> {
  return setWantedTemplate(db, { schoolId, cardNo, isLost: true, reason: '校园卡已挂失', now });
}

/** The card is back in use (un-loss): its level's template again. Run inside the un-loss transaction. */
export function cardFoundAgain(db: Executor, schoolId: string, cardNo: string, now: Date): Promise<string[]> {
  return setWantedTemplate(db, { schoolId, cardNo, isLost: false, reason: '校园卡已解挂', now });
}

/** What the card system says of the card now (read when card management queries it). */
export function cardSystemSays(
  db: Executor,
  card: { schoolId: string; cardNo: string },
  holder: { isLost: boolean; level: MemberLevel },
  now: Date,
): Promise<string[]> {
  return setWantedTemplate(db, {
    ...card,
    isLost: holder.isLost,
    level: holder.level,
    reason: holder.isLost ? '校园卡已挂失' : holder.level === 'STAFF' ? '身份变更为教职工' : '校园卡状态更新',
    now,
  });
}

/** Asks the sync job to send these cards' updates now (after the change has committed). */
export async function wakeWalletSync(deps: Pick<Deps, 'jobs' | 'logger'>, cardIds: string[]): Promise<void> {
  for (const cardId of cardIds) {
    // The sweep finds a card whose wake-up was lost; failing to enqueue is not the caller's failure.
    await deps.jobs
      .now(WALLET_SYNC_JOB, { cardId })
      .catch((error: unknown) => deps.logger.warn('could not wake the wallet sync', { cardId, error }));
  }
}

/** One run of the job: the named card, or every due card (the sweep). Returns how many were worked on. */
export async function syncDueWalletCards(deps: Deps, cardId?: string): Promise<number> {
  let done = 0;
  for (;;) {
    const now = deps.clock.now();
    const cards = await claimCardsForSync(deps.db, {
      cardId,
      now,
      leaseUntil: new Date(now.getTime() + deps.config.membercard.syncLeaseMs),
      limit: cardId ? 1 : SWEEP_BATCH,
    });
    for (const card of cards) await syncWalletCard(deps, card);
    done += cards.length;
    if (cardId || cards.length < SWEEP_BATCH) return done;
  }
}

async function syncWalletCard(deps: Deps, card: MembershipCardRow): Promise<void> {
  const shown = { templateId: card.templateId, points: card.syncedPoints };
  try {
    const target = await targetOf(deps, card.schoolId);
    if (card.wantedTemplateId !== shown.templateId) {
      await changeTemplate(target, {
        templateId: shown.templateId,
        bizCardNo: card.cardNo,
        targetTemplateId: card.wantedTemplateId,
        changeReason: card.templateChangeReason ?? '会员卡模板变更',
      });
      shown.templateId = card.wantedTemplateId;
    }
    if (card.points !== shown.points) {
      await updatePoints(target, {
        templateId: shown.templateId,
        bizCardNo: card.cardNo,
        point: card.points,
        changeReason: card.pointsChangeReason ?? '积分变更',
      });
      shown.points = card.points;
    }
    await finishSync(deps.db, card, shown, deps.clock.now());
    deps.logger.info('wallet card updated', { membershipCardId: card.id, templateId: shown.templateId });
  } catch (error) {
    const failure =
      error instanceof CardManagementError
        ? error
        : new CardManagementError('final', 'CONFIGURATION', (error as Error).message);
    const now = deps.clock.now();
    const delay =
      failure.classification === 'final' ? undefined : deps.config.membercard.syncRetryMs[card.syncAttempts];
    const nextSyncAt = delay === undefined ? null : new Date(now.getTime() + delay);
    await recordSyncFailure(deps.db, card, {
      shown,
      error: `${failure.reason}: ${failure.message}`,
      nextSyncAt,
      now,
    });
    if (nextSyncAt) {
      deps.logger.warn('wallet card update failed; will retry', {
        membershipCardId: card.id,
        reason: failure.reason,
        nextSyncAt,
      });
      await deps.jobs.at(nextSyncAt, WALLET_SYNC_JOB, { cardId: card.id });
    } else {
      deps.logger.error('wallet card update failed for good', {
        membershipCardId: card.id,
        reason: failure.reason,
        error: failure.message,
      });
    }
  }
}

async function targetOf(deps: Deps, schoolId: string): Promise<CardManagementTarget> {
  const program = await findProgram(deps.db, schoolId);
  if (!program) throw new Error('the school has no membership card program any more');
  return {
    baseUrl: program.cardManagementUrl,
    privateKey: privateKeyOf(program.signingKeyRef),
    timeoutMs: deps.config.membercard.timeoutMs,
  };
}
