import type { ApiHandler } from '../gateway/api.js';
import { randomDigits } from '../ids.js';
import { businessError, invalidParameter } from '../protocol/alipay-error.js';
import { spendSubscription } from '../domain/messages.js';
import { optionalText, requiredText } from './biz.js';

/**
 * alipay.open.app.mini.templatemessage.send (ALIPAY-M2.md §3): to_user_id or to_open_id, user_template_id,
 * page, data as a JSON string whose keyword count must equal the template's (USER_TEMPLATE_LACK_KEYWORD);
 * an unknown template is USER_TEMPLATE_ILLEGAL. A user without a subscription left gets USER_NOT_SUBSCRIBED:
 * Alipay documents no sub_code for it (ALIPAY-M2.md "Could not confirm" 5), this one is the sandbox's.
 * Every delivered message is kept for the control API (GET /control/messages).
 */
export const templateMessageSend: ApiHandler = (ctx, call) => {
  const userId = optionalText(call.biz, 'to_user_id');
  const openId = optionalText(call.biz, 'to_open_id');
  if (!!userId === !!openId) throw invalidParameter('to_user_id 与 to_open_id 必须且只能传一个');
  const user = userId
    ? ctx.state.users.get(userId)
    : ctx.state.users.get(ctx.state.openIds.get(openId!)?.userId ?? '');
  if (!user) throw businessError('USER_NOT_EXIST', '用户不存在');
  const templateId = requiredText(call.biz, 'user_template_id', 64);
  const template = ctx.state.messageTemplates.get(templateId);
  if (!template) throw businessError('USER_TEMPLATE_ILLEGAL', '模板非法');
  const page = optionalText(call.biz, 'page') ?? null;
  if (page && page.length > 128) throw invalidParameter('page 长度超过 128');
  const rawData = requiredText(call.biz, 'data', 2048);
  let data: Record<string, { value: string }>;
  try {
    data = JSON.parse(rawData) as Record<string, { value: string }>;
  } catch {
    throw invalidParameter('data 不是合法的 JSON');
  }
  const keywords = Object.keys(data).filter((k) => /^keyword\d+$/.test(k));
  if (keywords.length !== template.keywords) throw businessError('USER_TEMPLATE_LACK_KEYWORD', '缺少关键词');
  if (!spendSubscription(ctx, user.userId, templateId, template.longTerm))
    throw businessError('USER_NOT_SUBSCRIBED', '用户未订阅该模板消息');
  ctx.state.sentMessages.push({
    msgNo: `${Date.now()}${randomDigits(8)}`,
    appId: call.app.appId,
    authAppId: call.merchant.appId,
    userId: user.userId,
    templateId,
    page,
    data,
    sentAt: ctx.clock.now(),
  });
  return { code: '10000', msg: 'Success' };
};
