import { formatBeijingDateTime } from '../../../../shared/format.js';
import { fenToYuanAllowZero } from '../../../../shared/money.js';
import {
  findLiveCardByCardNo,
  findLiveCardOfUser,
  findRemovedCard,
  insertOpenedCard,
  markInWallet,
  markRemoved,
  type MemberLevel,
  type MembershipCardRow,
} from '../../db/repos/membercard/cards.js';
import { expireUnusedCodes } from '../../db/repos/membercard/codes.js';
import type { MembershipProgramRow } from '../../db/repos/membercard/programs.js';
import type { Deps } from '../../deps.js';
import type { CardHolder } from '../../integrations/cardsys/index.js';
import { activeSchool } from '../cards/bindings.js';
import { DomainError } from '../errors.js';
import { DEFAULT_CODE_TTL_SECONDS, issueDynamicCode } from './dynamic-codes.js';
import { findMember, type MemberDetails } from './members.js';
import { templateFor } from './programs.js';
import { cardSystemSays, wakeWalletSync } from './wallet-sync.js';

/**
 * What AntBuilder card management asks our CRM (seed 003 "业务系统提供接口给卡管系统", DESIGN §6.4). The
 * campus card is the membership card: bizCardNo = cardNo = the campus card number, the level is the card's
 * identity, the balance is the card system's live balance in yuan.
 *
 *   openCardInfo without bizCardNo   register: find the member (members.ts), open their card (OPENED)
 *   openCardInfo with bizCardNo      query: the same data, only for the Alipay user who holds that card
 *   cardChange ADD / DEL             the card entered / left the user's wallet (IN_WALLET / REMOVED)
 *   mdCodeChange                     a dynamic code for the card in the wallet (dynamic-codes.ts)
 */

export interface OpenCardRequest extends MemberDetails {
  bizCardNo?: string;
  templateId?: string;
}

export interface OpenCardAnswer {
  bizCardNo: string;
  cardNo: string;
  point: number;
  level: 'student' | 'staff';
  /** Yuan, from the live card balance; absent when the card system did not answer. */
  balance?: string;
  /** Only when the card's template is not the one card management opened it with. */
  templateId?: string;
}

export interface CardChangeRequest {
  type: 'ADD' | 'DEL';
  templateId: string;
  alipayUserId: string;
  bizCardNo: string;
  alipayCardNo: string;
}

export interface CodeRequest {
  appId: string;
  templateId: string;
  alipayUserId: string;
  /** Seconds, as configured in card management; 120 when absent (seed 003). */
  expireTime?: number;
}

export interface CodeAnswer {
  alipayUserId: string;
  codeValue: string;
  /** `yyyy-MM-dd HH:mm:ss`, Beijing time. */
  codeExpire: string;
}

export function openCardInfo(
  deps: Deps,
  program: MembershipProgramRow,
  request: OpenCardRequest,
): Promise<OpenCardAnswer> {
  return request.bizCardNo
    ? queryCard(deps, program, { ...request, bizCardNo: request.bizCardNo })
    : registerMember(deps, program, request);
}

async function registerMember(
  deps: Deps,
  program: MembershipProgramRow,
  request: OpenCardRequest,
): Promise<OpenCardAnswer> {
  const school = await activeSchool(deps, program.schoolId);
  // Asking again (card management retried, or the user opens the form twice) gets the same card.
  const held = await findLiveCardOfUser(deps.db, school.id, request.alipayUserId);
  if (held) {
    const holder = await readHolder(deps, school.id, held.cardNo);
    return answerFor(held, holder, request.templateId, held.wantedTemplateId);
  }
  const member = await findMember(deps, school.id, request);
  if (!member) throw new DomainError('MEMBER_NOT_FOUND');
  const taken = await findLiveCardByCardNo(deps.db, school.id, member.cardNo);
  if (taken) throw new DomainError('MEMBERSHIP_CARD_TAKEN');

  const holder = await readHolder(deps, school.id, member.cardNo);
  const level = holder ? levelOf(holder) : member.level;
  const templateId = templateFor(program, { level, isLost: holder?.status === 'LOST' });
  const removed = await findRemovedCard(deps.db, school.id, member.cardNo, request.alipayUserId);
  const opened = await insertOpenedCard(deps.db, {
    schoolId: school.id,
    cardNo: member.cardNo,
    alipayUserId: request.alipayUserId,
    level,
    templateId,
    points: removed?.points ?? 0,
    now: deps.clock.now(),
  });
  if (!opened) {
    // A concurrent request opened it first: the same user's gets that card, anyone else is refused.
    const winner = await findLiveCardOfUser(deps.db, school.id, request.alipayUserId);
    if (!winner) throw new DomainError('MEMBERSHIP_CARD_TAKEN');
    return answerFor(winner, holder, request.templateId, winner.wantedTemplateId);
  }
  deps.logger.info('membership card opened', { schoolId: school.id, foundBy: member.foundBy });
  return answerFor(opened, holder, request.templateId, templateId);
}

async function queryCard(
  deps: Deps,
  program: MembershipProgramRow,
  request: OpenCardRequest & { bizCardNo: string },
): Promise<OpenCardAnswer> {
  const card = await findLiveCardByCardNo(deps.db, program.schoolId, request.bizCardNo);
  // Someone else's card and no card at all look the same to the asker.
  if (!card || card.alipayUserId !== request.alipayUserId) throw new DomainError('MEMBERSHIP_CARD_NOT_FOUND');
  const holder = await readHolder(deps, card.schoolId, card.cardNo);
  if (holder) {
    const changed = await cardSystemSays(
      deps.db,
      card,
      { isLost: holder.status === 'LOST', level: levelOf(holder) },
      deps.clock.now(),
    );
    await wakeWalletSync(deps, changed);
  }
  // The query's answer carries no templateId (seed 003); a new template reaches the card by changeTemplate.
  const answer = answerFor(card, holder, card.templateId, card.templateId);
  return holder ? { ...answer, level: levelOf(holder) === 'STAFF' ? 'staff' : 'student' } : answer;
}

/** cardChange: idempotent; a DEL of a card we do not know is fine (seed 003: "不需要删除…可以不做操作"). */
export async function cardChange(
  deps: Deps,
  program: MembershipProgramRow,
  request: CardChangeRequest,
): Promise<void> {
  const now = deps.clock.now();
  const key = {
    schoolId: program.schoolId,
    cardNo: request.bizCardNo,
    alipayUserId: request.alipayUserId,
    now,
  };
  if (request.type === 'DEL') {
    for (const card of await markRemoved(deps.db, key)) await expireUnusedCodes(deps.db, card.id, now);
    return;
  }
  const card = await markInWallet(deps.db, {
    ...key,
    alipayCardNo: request.alipayCardNo,
    templateId: request.templateId,
  });
  if (!card)
    throw new DomainError(
      'MEMBERSHIP_CARD_NOT_FOUND',
      'No card was opened for this Alipay user and bizCardNo',
    );
  if (card.nextSyncAt) await wakeWalletSync(deps, [card.id]);
}

export async function dynamicCodeFor(
  deps: Deps,
  program: MembershipProgramRow,
  request: CodeRequest,
): Promise<CodeAnswer> {
  await activeSchool(deps, program.schoolId);
  const card = await findLiveCardOfUser(deps.db, program.schoolId, request.alipayUserId);
  if (!card) throw new DomainError('MEMBERSHIP_CARD_NOT_FOUND');
  const { code, expiresAt } = await issueDynamicCode(
    deps,
    card,
    request.expireTime ?? DEFAULT_CODE_TTL_SECONDS,
  );
  return {
    alipayUserId: request.alipayUserId,
    codeValue: code,
    codeExpire: formatBeijingDateTime(expiresAt.toISOString(), { seconds: true }),
  };
}

function levelOf(holder: CardHolder): MemberLevel {
  return holder.identity === 'STAFF' ? 'STAFF' : 'STUDENT';
}

/** The card system's view of the card; a silent card system leaves the balance out, not the card. */
async function readHolder(deps: Deps, schoolId: string, cardNo: string): Promise<CardHolder | null> {
  try {
    const school = await activeSchool(deps, schoolId);
    return await deps.schools.cardSystem(school).getCardHolder(cardNo);
  } catch (error) {
    deps.logger.warn('card system unavailable for the wallet card', { error: (error as Error).message });
    return null;
  }
}

function answerFor(
  card: MembershipCardRow,
  holder: CardHolder | null,
  askedTemplateId: string | undefined,
  templateId: string,
): OpenCardAnswer {
  return {
    bizCardNo: card.cardNo,
    cardNo: card.cardNo,
    point: card.points,
    level: card.level === 'STAFF' ? 'staff' : 'student',
    ...(holder ? { balance: fenToYuanAllowZero(holder.balanceFen) } : {}),
    ...(templateId !== askedTemplateId ? { templateId } : {}),
  };
}
