import {
  CARD_SYSTEM_CONNECTED_CHANNEL,
  lockSchool,
  setCardSystemConnection,
  type SchoolRow,
} from '../../db/repos/schools/schools.js';
import { announceRow } from '../../db/wakeups.js';
import type { Deps } from '../../deps.js';
import { CardSystemError, type CardSystem } from '../../integrations/cardsys/index.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { DomainError } from '../errors.js';
import { cardSystemFailure } from '../outside-errors.js';

/**
 * Connecting a school's card system (DESIGN §7.0, seed 000 §1.2): the vendor's endpoint and interface
 * account, tested with a real GetPersonInfo before anything is stored, and stored encrypted.
 *
 * The test asks for a card number no school issues: "no such card" is an answer only an endpoint that
 * accepted our credentials gives (the vendor checks the account before anything else), so it proves the
 * connection without knowing a real card. The operator may name a real card instead (`--probe-card`).
 */

export const PROBE_CARD_NO = '0000000000';

/** One side of a school's readiness: working or not, and why not. */
export interface SideCheck {
  isOk: boolean;
  detail: string;
}

/** GetPersonInfo through `system`; resolves with what was learnt, throws the CardSystemError otherwise. */
async function probe(system: CardSystem, cardNo: string): Promise<string> {
  try {
    const holder = await system.getCardHolder(cardNo);
    return `GetPersonInfo(${cardNo}) answered: card ${holder.status}`;
  } catch (error) {
    if (error instanceof CardSystemError && error.reason === 'CARD_NOT_FOUND')
      return `GetPersonInfo(${cardNo}) answered: no such card (credentials accepted)`;
    throw error;
  }
}

/** The stored connection, tried live. */
export async function probeCardSystem(deps: Pick<Deps, 'schools'>, school: SchoolRow): Promise<SideCheck> {
  if (!school.cardsysEndpoint) return { isOk: false, detail: 'not connected' };
  try {
    return { isOk: true, detail: await probe(deps.schools.cardSystem(school), PROBE_CARD_NO) };
  } catch (error) {
    if (!(error instanceof CardSystemError)) throw error;
    return { isOk: false, detail: `${error.reason}: ${error.message}` };
  }
}

export async function connectCardSystem(
  deps: Pick<Deps, 'db' | 'pool' | 'clock' | 'protector' | 'schools'>,
  actor: Actor,
  input: { schoolId: string; endpoint: string; username: string; password: string; probeCardNo?: string },
): Promise<{ school: SchoolRow; test: string }> {
  let endpoint: URL;
  try {
    endpoint = new URL(input.endpoint);
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new TypeError('not http(s)');
  } catch {
    throw new DomainError('VALIDATION_FAILED', 'endpoint: an http(s) URL', { field: 'endpoint' });
  }
  if (!input.username.trim())
    throw new DomainError('VALIDATION_FAILED', 'username: required', { field: 'username' });
  if (!input.password)
    throw new DomainError('VALIDATION_FAILED', 'password: required', { field: 'password' });
  const system = deps.schools.cardSystemFor({
    endpoint: input.endpoint,
    username: input.username,
    password: input.password,
  });
  let test: string;
  try {
    test = await probe(system, input.probeCardNo ?? PROBE_CARD_NO);
  } catch (error) {
    throw cardSystemFailure(error);
  }
  const school = await deps.db.transaction(async (tx) => {
    const before = await lockSchool(tx, input.schoolId);
    if (!before) throw new DomainError('SCHOOL_NOT_FOUND');
    const after = await setCardSystemConnection(tx, input.schoolId, {
      endpoint: input.endpoint,
      username: input.username,
      passwordEnc: deps.protector.encrypt(input.password),
      verifiedAt: deps.clock.now(),
    });
    await recordAudit(tx, {
      actor,
      schoolId: input.schoolId,
      action: 'school.cardsys.connect',
      // Never the password itself, not even encrypted.
      before: { endpoint: before.cardsysEndpoint, username: before.cardsysUsername },
      after: { endpoint: input.endpoint, username: input.username, passwordChanged: true, test },
    });
    return after!;
  });
  // The workers build the client now rather than inside this school's first credit; a lost announcement
  // only leaves that to the first call.
  await announceRow(deps.pool, CARD_SYSTEM_CONNECTED_CHANNEL, school.id).catch(() => undefined);
  return { school, test };
}
