import type { SandboxContext } from '../context.js';
import { formatBeijing, parseBeijing } from '../beijing-time.js';
import { newAgreementNo } from '../ids.js';
import { renderEnvelope } from '../protocol/envelope.js';
import { isSignType, requestSignContent, verifyText } from '../protocol/sign-content.js';
import type { Agreement, Merchant, RegisteredApp, User } from '../state/types.js';
import { identityFields, maskLogonId } from './accounts.js';

/** my.paySignCenter's answer (ALIPAY.md §4.10 step 4). */
export interface SignCenterResult {
  resultStatus: '7000' | '6001' | '7002';
  /** JSON text with the signed alipay_user_agreement_page_sign_response (7000 only; '' otherwise). */
  result: string;
  /** Why a signStr was refused: sandbox help, not part of Alipay's answer. */
  memo?: string;
  agreementNo?: string;
}

export type SignAction = 'sign' | 'cancel' | 'deny';

const PERSONAL_PRODUCTS = new Set(['GENERAL_WITHHOLDING_P', 'CYCLE_PAY_AUTH_P']);
/** Seen in real sign notifications (ALIPAY.md §3.5). */
const INVALID_TIME = '2115-02-01 00:00:00';

function refused(memo: string): SignCenterResult {
  return { resultStatus: '7002', result: '', memo };
}

interface ParsedSignRequest {
  app: RegisteredApp;
  merchant: Merchant;
  notifyUrl?: string;
  biz: Record<string, unknown>;
}

/**
 * Reads a signStr exactly as the server hands it to my.paySignCenter (ALIPAY.md §4.10 steps 1–2):
 * `encodeURIComponent(sdkExecute('alipay.user.agreement.page.sign', …))`. Decodes it once, parses the query
 * string and verifies the app's RSA2 signature with the same rule as the gateway (§1.3).
 */
function parseSignStr(ctx: SandboxContext, signStr: string): ParsedSignRequest | string {
  if (/[&=]/.test(signStr)) {
    return 'signStr contains raw "&"/"=": pass encodeURIComponent(orderStr), not the sdkExecute string itself (ALIPAY.md §4.10 step 2)';
  }
  let orderStr: string;
  try {
    orderStr = decodeURIComponent(signStr);
  } catch {
    return 'signStr is not valid percent-encoding';
  }
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(orderStr)) params[key] = value;
  if (params.method !== 'alipay.user.agreement.page.sign') {
    return `method is ${JSON.stringify(params.method)}, expected alipay.user.agreement.page.sign`;
  }
  const app = params.app_id ? ctx.state.apps.get(params.app_id) : undefined;
  if (!app) return `unknown app_id ${JSON.stringify(params.app_id)}`;
  if (!params.sign || !params.sign_type || !isSignType(params.sign_type)) return 'sign or sign_type missing';
  if (!params.timestamp || !parseBeijing(params.timestamp)) return 'timestamp is not yyyy-MM-dd HH:mm:ss';
  const content = requestSignContent(params);
  if (!verifyText(content, params.sign, app.publicKey, params.sign_type)) {
    return `invalid signature; the string checked was: ${content}`;
  }
  let merchant = app.merchant;
  if (params.app_auth_token) {
    const token = ctx.state.appAuthTokens.get(params.app_auth_token);
    if (!token || token.isvAppId !== app.appId) return 'invalid app_auth_token';
    merchant = token.merchant;
  }
  let biz: unknown;
  try {
    biz = JSON.parse(params.biz_content ?? '');
  } catch {
    return 'biz_content is not JSON';
  }
  if (!biz || typeof biz !== 'object' || Array.isArray(biz)) return 'biz_content is not a JSON object';
  return { app, merchant, notifyUrl: params.notify_url || undefined, biz: biz as Record<string, unknown> };
}

function text(biz: Record<string, unknown>, field: string): string | undefined {
  const value = biz[field];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function validateSignBiz(biz: Record<string, unknown>): string | undefined {
  const product = text(biz, 'personal_product_code');
  if (!product || !PERSONAL_PRODUCTS.has(product)) {
    return 'personal_product_code must be GENERAL_WITHHOLDING_P or CYCLE_PAY_AUTH_P';
  }
  const external = text(biz, 'external_agreement_no');
  if (external && external.length > 32) return 'external_agreement_no is longer than 32';
  if (external && (text(biz, 'sign_scene') ?? 'DEFAULT|DEFAULT') === 'DEFAULT|DEFAULT') {
    return 'sign_scene must not be DEFAULT|DEFAULT when external_agreement_no is used (ALIPAY.md §4.10)';
  }
  if (product === 'CYCLE_PAY_AUTH_P') {
    const rule = biz.period_rule_params as Record<string, unknown> | undefined;
    for (const field of ['period_type', 'period', 'execute_time', 'single_amount']) {
      if (!rule || rule[field] === undefined)
        return `period_rule_params.${field} is required for CYCLE_PAY_AUTH_P`;
    }
  }
  return undefined;
}

/** The fields both the signing answer and the dut_user_sign / dut_user_unsign notifications carry (§3.5). */
function agreementFields(ctx: SandboxContext, agreement: Agreement): Record<string, string | undefined> {
  const app = ctx.state.apps.get(agreement.appId);
  return {
    agreement_no: agreement.agreementNo,
    external_agreement_no: agreement.externalAgreementNo,
    external_logon_id: agreement.externalLogonId,
    ...identityFields(ctx, agreement.user, app?.idMode ?? 'open_id', agreement.appId, {
      userId: 'alipay_user_id',
      openId: 'alipay_open_id',
    }),
    alipay_logon_id: maskLogonId(agreement.user.logonId),
    status: agreement.status,
    sign_time: formatBeijing(agreement.signTime),
    valid_time: formatBeijing(agreement.validTime),
    invalid_time: agreement.invalidTime,
    personal_product_code: agreement.personalProductCode,
    sign_scene: agreement.signScene,
    ...(agreement.unsignTime ? { unsign_time: formatBeijing(agreement.unsignTime) } : {}),
  };
}

function notifyAgreement(ctx: SandboxContext, agreement: Agreement, notifyUrl: string | undefined): void {
  if (!notifyUrl) return;
  ctx.notifier.send({
    notifyType: agreement.status === 'NORMAL' ? 'dut_user_sign' : 'dut_user_unsign',
    notifyUrl,
    appId: agreement.appId,
    agreementNo: agreement.agreementNo,
    fields: {
      app_id: agreement.appId,
      auth_app_id: agreement.merchant.appId,
      ...agreementFields(ctx, agreement),
    },
  });
}

function signResult(ctx: SandboxContext, agreement: Agreement): string {
  const inner: Record<string, string> = { code: '10000', msg: 'Success' };
  for (const [key, value] of Object.entries(agreementFields(ctx, agreement))) if (value) inner[key] = value;
  return renderEnvelope(
    'alipay_user_agreement_page_sign_response',
    inner,
    { privateKey: ctx.keys.privateKey, signType: 'RSA2' },
    { sign_type: 'RSA2' },
  );
}

/**
 * The user acts on the signing page that my.paySignCenter opens: `sign` → 7000 with a NORMAL agreement and a
 * dut_user_sign notification to the call's notify_url; `cancel` → 6001 (user left); `deny` → 7002 (failed).
 * Signing the same external_agreement_no again while it is NORMAL returns the existing agreement.
 */
export function signFromSignStr(
  ctx: SandboxContext,
  signStr: string,
  user: User,
  action: SignAction,
): SignCenterResult {
  const parsed = parseSignStr(ctx, signStr);
  if (typeof parsed === 'string') return refused(parsed);
  const problem = validateSignBiz(parsed.biz);
  if (problem) return refused(problem);
  if (action === 'cancel') return { resultStatus: '6001', result: '' };
  if (action === 'deny') return { resultStatus: '7002', result: '' };

  const { biz } = parsed;
  const personalProductCode = text(biz, 'personal_product_code')!;
  const signScene = text(biz, 'sign_scene') ?? 'DEFAULT|DEFAULT';
  const externalAgreementNo = text(biz, 'external_agreement_no');
  const existing = externalAgreementNo
    ? [...ctx.state.agreements.values()].find(
        (a) =>
          a.status === 'NORMAL' &&
          a.merchant === parsed.merchant &&
          a.user === user &&
          a.externalAgreementNo === externalAgreementNo &&
          a.personalProductCode === personalProductCode,
      )
    : undefined;
  if (existing)
    return { resultStatus: '7000', result: signResult(ctx, existing), agreementNo: existing.agreementNo };

  const now = ctx.clock.now();
  let agreementNo = newAgreementNo(now);
  while (ctx.state.agreements.has(agreementNo)) agreementNo = newAgreementNo(now);
  const agreement: Agreement = {
    agreementNo,
    externalAgreementNo,
    externalLogonId: text(biz, 'external_logon_id'),
    personalProductCode,
    productCode: text(biz, 'product_code'),
    signScene,
    thirdPartyType: text(biz, 'third_party_type') ?? 'PARTNER',
    user,
    appId: parsed.app.appId,
    merchant: parsed.merchant,
    status: 'NORMAL',
    signTime: now,
    validTime: now,
    invalidTime: INVALID_TIME,
    notifyUrl: parsed.notifyUrl,
  };
  ctx.state.agreements.set(agreementNo, agreement);
  notifyAgreement(ctx, agreement, agreement.notifyUrl);
  return { resultStatus: '7000', result: signResult(ctx, agreement), agreementNo };
}

/** Ends a NORMAL agreement; dut_user_unsign goes to `notifyUrl` (the sign call's one when the user unsigns). */
export function unsignAgreement(
  ctx: SandboxContext,
  agreement: Agreement,
  notifyUrl: string | undefined,
): void {
  agreement.status = 'UNSIGN';
  agreement.unsignTime = ctx.clock.now();
  notifyAgreement(ctx, agreement, notifyUrl);
}

/** The agreement.query answer fields (ALIPAY.md §4.11): principal_id / principal_open_id by id mode. */
export function agreementQueryFields(
  ctx: SandboxContext,
  agreement: Agreement,
  idMode: RegisteredApp['idMode'],
) {
  const fields: Record<string, string> = {
    agreement_no: agreement.agreementNo,
    status: agreement.status,
    sign_time: formatBeijing(agreement.signTime),
    valid_time: formatBeijing(agreement.validTime),
    invalid_time: agreement.invalidTime,
    personal_product_code: agreement.personalProductCode,
    sign_scene: agreement.signScene,
    third_party_type: agreement.thirdPartyType,
    alipay_logon_id: maskLogonId(agreement.user.logonId),
    ...identityFields(ctx, agreement.user, idMode, agreement.appId, {
      userId: 'principal_id',
      openId: 'principal_open_id',
    }),
  };
  if (agreement.externalAgreementNo) fields.external_agreement_no = agreement.externalAgreementNo;
  return fields;
}
