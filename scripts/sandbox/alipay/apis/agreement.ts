import type { SandboxContext } from '../context.js';
import type { ApiHandler, GatewayCall } from '../gateway/api.js';
import { businessError } from '../protocol/alipay-error.js';
import type { Agreement } from '../state/types.js';
import { agreementQueryFields, unsignAgreement } from '../domain/agreements.js';
import { optionalText } from './biz.js';

/**
 * Finds an agreement for the acting merchant: by agreement_no (then everything else is ignored), or by
 * personal_product_code + sign_scene + user (+ external_agreement_no) (ALIPAY.md §4.11, §4.12).
 * Agreement APIs use unprefixed sub_codes (§2.3).
 */
function findAgreement(ctx: SandboxContext, call: GatewayCall, onlyNormal: boolean): Agreement | undefined {
  const agreementNo = optionalText(call.biz, 'agreement_no');
  if (agreementNo) {
    const agreement = ctx.state.agreements.get(agreementNo);
    return agreement && agreement.merchant === call.merchant ? agreement : undefined;
  }
  const product = optionalText(call.biz, 'personal_product_code');
  if (!product)
    throw businessError('INVALID_PARAMETER', '参数无效: agreement_no 或 personal_product_code 必填');
  const userId = optionalText(call.biz, 'alipay_user_id');
  const openId = optionalText(call.biz, 'alipay_open_id');
  const logonId = optionalText(call.biz, 'alipay_logon_id');
  const user = userId
    ? ctx.state.users.get(userId)
    : openId
      ? ctx.state.users.get(ctx.state.openIds.get(openId)?.userId ?? '')
      : logonId
        ? ctx.state.usersByLogonId.get(logonId)
        : undefined;
  if (!user) throw businessError('USER_NOT_EXIST_ERROR', '用户不存在');
  const scene = optionalText(call.biz, 'sign_scene') ?? 'DEFAULT|DEFAULT';
  const external = optionalText(call.biz, 'external_agreement_no');
  const candidates = [...ctx.state.agreements.values()].filter(
    (a) =>
      a.merchant === call.merchant &&
      a.user === user &&
      a.personalProductCode === product &&
      a.signScene === scene &&
      (external === undefined || a.externalAgreementNo === external) &&
      (!onlyNormal || a.status === 'NORMAL'),
  );
  return candidates.find((a) => a.status === 'NORMAL') ?? candidates.at(-1);
}

/**
 * alipay.user.agreement.query: NORMAL agreements only; an unsigned one reads as USER_AGREEMENT_NOT_EXIST
 * (the sandbox's choice where the docs are silent, see docs/sandbox.md).
 */
export const agreementQuery: ApiHandler = (ctx, call) => {
  const agreement = findAgreement(ctx, call, true);
  if (!agreement || agreement.status !== 'NORMAL') {
    throw businessError('USER_AGREEMENT_NOT_EXIST', '用户协议不存在');
  }
  return { code: '10000', msg: 'Success', ...agreementQueryFields(ctx, agreement, call.app.idMode) };
};

/**
 * alipay.user.agreement.unsign by the merchant: 10000 only. dut_user_unsign is sent when the call carries a
 * notify_url (common param or biz notify_url).
 */
export const agreementUnsign: ApiHandler = (ctx, call) => {
  const agreement = findAgreement(ctx, call, false);
  if (!agreement) throw businessError('AGREEMENT_NOT_EXIST', '协议不存在');
  if (agreement.status !== 'NORMAL')
    throw businessError('USER_AGREEMENT_STATUS_NOT_NORMAL', '用户协议状态非正常');
  unsignAgreement(ctx, agreement, call.params.notify_url || optionalText(call.biz, 'notify_url'));
  return { code: '10000', msg: 'Success' };
};
