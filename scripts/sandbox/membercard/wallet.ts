/**
 * What a user does with the card in the Alipay wallet, and the CRM calls card management makes for it
 * (seed 003):
 *   claim   the open-card form (领卡表单) → openCardInfo (register) → the card is created in the wallet with
 *           the CRM's bizCardNo, points, level, balance and, if it says so, another template → cardChange ADD
 *   show    the user opens the card → openCardInfo with bizCardNo (query) for fresh points and balance
 *   code    the card's dynamic code → mdCodeChange with the template's refresh time
 *   remove  the user deletes the card → cardChange DEL
 */
import { callCrm } from './crm-client.js';
import type {
  ClaimInput,
  ClaimView,
  CodeView,
  CrmCallView,
  RemoveView,
  ShowCardView,
  WalletCardView,
} from './control-types.js';
import { SandboxNotFound, type CardManagementBooks, type System } from './state.js';

function field(answer: unknown, name: string): unknown {
  return answer && typeof answer === 'object' ? (answer as Record<string, unknown>)[name] : undefined;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

function describe(call: CrmCallView): string {
  const detail = call.errmsg ? `: ${call.errmsg}` : '';
  return `${call.path} ${call.outcome}${call.httpStatus ? ` (HTTP ${call.httpStatus})` : ''}${detail}`;
}

async function crm(
  books: CardManagementBooks,
  system: System,
  name: 'openCardInfo' | 'cardChange' | 'mdCodeChange',
  request: Record<string, unknown>,
): Promise<CrmCallView> {
  const call = await callCrm(system, name, request);
  books.logCrmCall(system.systemId, call);
  return call;
}

/** The CRM's answer to openCardInfo, applied to the card (points, level, balance). */
function applyAnswer(card: WalletCardView, answer: unknown): void {
  const point = Number(field(answer, 'point') ?? 0);
  card.point = Number.isInteger(point) ? point : card.point;
  card.level = text(field(answer, 'level')) ?? card.level;
  card.balance = text(field(answer, 'balance'));
  card.cardNo = text(field(answer, 'cardNo')) ?? card.cardNo;
}

export async function claimCard(books: CardManagementBooks, input: ClaimInput): Promise<ClaimView> {
  const system = books.systemOfTemplate(input.templateId);
  if (!system) throw new SandboxNotFound(`no template ${input.templateId}`);
  const template = system.templates.get(input.templateId)!;
  const form = Object.fromEntries(
    template.formFields.filter((f) => input.form?.[f]).map((f) => [f, input.form![f]]),
  );
  const openCardInfo = await crm(books, system, 'openCardInfo', {
    alipayUserId: input.alipayUserId,
    templateId: input.templateId,
    ...(input.outString ? { outString: input.outString } : {}),
    ...form,
  });
  const failed = (reason: string): ClaimView => ({
    status: 'FAILED',
    reason,
    card: null,
    openCardInfo,
    cardChange: null,
  });
  if (openCardInfo.outcome !== 'OK') return failed(describe(openCardInfo));
  const bizCardNo = text(field(openCardInfo.answer, 'bizCardNo'));
  if (!bizCardNo) return failed('the CRM answered no bizCardNo');
  const templateId = text(field(openCardInfo.answer, 'templateId')) ?? input.templateId;
  if (!system.templates.has(templateId))
    return failed(`the CRM answered template ${templateId}, not one of ours`);

  const held = books.activeCard(system.systemId, bizCardNo);
  if (held && held.alipayUserId !== input.alipayUserId) {
    return failed(`card ${bizCardNo} is in another user's wallet`);
  }
  const card: WalletCardView = held ?? {
    alipayUserId: input.alipayUserId,
    alipayCardNo: books.newAlipayCardNo(),
    systemId: system.systemId,
    templateId,
    templateName: system.templates.get(templateId)!.name,
    bizCardNo,
    cardNo: bizCardNo,
    point: 0,
    level: null,
    balance: null,
    status: 'ACTIVE',
    claimedAt: new Date().toISOString(),
    refreshedAt: null,
    code: null,
    updates: [],
  };
  card.templateId = templateId;
  card.templateName = system.templates.get(templateId)!.name;
  applyAnswer(card, openCardInfo.answer);
  books.cards.set(card.alipayCardNo, card);

  const cardChange = await crm(books, system, 'cardChange', {
    type: 'ADD',
    templateId: card.templateId,
    alipayUserId: card.alipayUserId,
    bizCardNo: card.bizCardNo,
    alipayCardNo: card.alipayCardNo,
  });
  return {
    status: 'CLAIMED',
    // The card is in the wallet either way (Alipay made it); a failed ADD is the CRM's to catch up on.
    reason: cardChange.outcome === 'OK' ? null : `cardChange ADD failed: ${describe(cardChange)}`,
    card: structuredClone(card),
    openCardInfo,
    cardChange,
  };
}

export async function showCard(
  books: CardManagementBooks,
  alipayUserId: string,
  alipayCardNo: string,
): Promise<ShowCardView> {
  const card = books.card(alipayUserId, alipayCardNo);
  const system = books.system(card.systemId);
  const refresh = await crm(books, system, 'openCardInfo', {
    alipayUserId,
    bizCardNo: card.bizCardNo,
    templateId: card.templateId,
  });
  if (refresh.outcome === 'OK') {
    applyAnswer(card, refresh.answer);
    card.refreshedAt = new Date().toISOString();
  }
  return { card: structuredClone(card), refresh };
}

export async function requestCode(
  books: CardManagementBooks,
  alipayUserId: string,
  alipayCardNo: string,
): Promise<CodeView> {
  const card = books.card(alipayUserId, alipayCardNo);
  const system = books.system(card.systemId);
  const template = system.templates.get(card.templateId);
  const mdCodeChange = await crm(books, system, 'mdCodeChange', {
    appId: system.appId,
    templateId: card.templateId,
    alipayUserId,
    expireTime: template?.codeExpireSeconds ?? 120,
  });
  const codeValue = text(field(mdCodeChange.answer, 'codeValue'));
  const codeExpire = text(field(mdCodeChange.answer, 'codeExpire'));
  if (mdCodeChange.outcome === 'OK' && codeValue && codeExpire) card.code = { codeValue, codeExpire };
  return { card: structuredClone(card), mdCodeChange };
}

export async function removeCard(
  books: CardManagementBooks,
  alipayUserId: string,
  alipayCardNo: string,
): Promise<RemoveView> {
  const card = books.card(alipayUserId, alipayCardNo);
  const system = books.system(card.systemId);
  card.status = 'REMOVED';
  card.code = null;
  const cardChange = await crm(books, system, 'cardChange', {
    type: 'DEL',
    templateId: card.templateId,
    alipayUserId,
    bizCardNo: card.bizCardNo,
    alipayCardNo,
  });
  return { card: structuredClone(card), cardChange };
}
