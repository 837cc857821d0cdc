import type { InboxActionResponse } from '../../../../shared/admin-api.js';
import { findBinding } from '../../db/repos/cards/bindings.js';
import { findAgreement } from '../../db/repos/withholding/agreements.js';
import type { Deps } from '../../deps.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { resolvePendingAgreement, syncCardForWithholding } from './agreements.js';

/**
 * Withholding set-up that stalled (the exceptions inbox): an agreement Alipay never confirmed to us, and a
 * card the card system has not bound (or unbound) as its coverage says. "Retry" runs what the sweep would,
 * at once: agreement.query by our external number (NORMAL → ACTIVE as if notified), or one ZFB_BindDoc /
 * ZFB_UnBindDoc. Both are idempotent by nature; the request and what it found are one audit row, written
 * when the outcome is known (the change itself is made by the same code as the sweep's, in its own
 * transaction).
 */

export async function resolveStuckAgreement(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  id: string,
): Promise<InboxActionResponse> {
  const agreement = await findAgreement(deps.db, id);
  if (!agreement || agreement.schoolId !== schoolId) throw new DomainError('INBOX_ITEM_NOT_FOUND');
  if (agreement.status !== 'PENDING')
    return { changed: false, status: agreement.status, message: `already ${agreement.status}` };
  await resolvePendingAgreement(deps, agreement);
  const after = (await findAgreement(deps.db, id))!;
  await recordAudit(deps.db, {
    actor,
    schoolId,
    action: 'agreement.resolve',
    target: agreement.externalAgreementNo,
    before: { status: agreement.status },
    after: { status: after.status },
  });
  return {
    changed: after.status !== agreement.status,
    status: after.status,
    message: after.status === 'ACTIVE' ? 'Alipay confirms the agreement' : 'Alipay does not know it yet',
  };
}

export async function retryCardSync(
  deps: Deps,
  actor: Actor,
  schoolId: string,
  bindingId: string,
): Promise<InboxActionResponse> {
  const binding = await findBinding(deps.db, bindingId);
  if (!binding || binding.schoolId !== schoolId) throw new DomainError('INBOX_ITEM_NOT_FOUND');
  await syncCardForWithholding(deps, bindingId, Number.MAX_SAFE_INTEGER);
  const after = (await findBinding(deps.db, bindingId))!;
  const changed = after.isWithholdingPayer !== binding.isWithholdingPayer;
  await recordAudit(deps.db, {
    actor,
    schoolId,
    action: 'binding.card-sync.retry',
    target: binding.cardNo,
    before: { isBoundAtCardSystem: binding.isWithholdingPayer },
    after: { isBoundAtCardSystem: after.isWithholdingPayer },
  });
  return {
    changed,
    status: after.isWithholdingPayer ? 'BOUND' : 'UNBOUND',
    message: changed ? 'the card system is in step' : 'the card system did not change; see its answer',
  };
}
