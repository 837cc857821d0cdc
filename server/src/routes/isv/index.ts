import Router from '@koa/router';
import Joi from 'joi';
import { messageForCode } from '../../../../shared/messages-zh.js';
import type { Deps } from '../../deps.js';
import { isDomainError } from '../../domain/errors.js';
import { completeAuthorization } from '../../domain/schools/isv-authorization.js';
import { rateLimit } from '../../http/rate-limit.js';
import { resultPage } from './result-page.js';

const callbackQuery = Joi.object({
  app_auth_code: Joi.string().max(128),
  state: Joi.string().max(256),
  app_id: Joi.string().max(32),
  source: Joi.string().max(64),
  application_type: Joi.string().max(128),
}).unknown(true);

/**
 * `GET /isv/alipay/callback` (DESIGN §6.5): where Alipay sends a school's account after it authorized our
 * app (ALIPAY-M2.md §4). Answers a plain page: authorized, or why nothing changed (a replayed, expired or
 * foreign state; a code Alipay refused).
 */
export function isvRoutes(deps: Deps): Router {
  const router = new Router();
  router.get('/isv/alipay/callback', rateLimit(deps, 'isv-callback-ip'), async (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    const { value, error } = callbackQuery.validate(ctx.query);
    try {
      if (error) throw error;
      const { school } = await completeAuthorization(
        deps,
        { state: value.state, appAuthCode: value.app_auth_code, appId: value.app_id },
        ctx.state.requestId,
      );
      ctx.body = resultPage({
        isSuccess: true,
        title: '授权成功',
        lines: [
          `${school.name}（${school.code}）已授权平台代为调用支付宝接口。`,
          school.status === 'ACTIVE'
            ? '学校的校园卡支付宝服务正在运行。'
            : '平台完成一卡通系统对接后即可开通，无需再做其他操作。',
          '可以关闭此页面。',
        ],
      });
    } catch (failure) {
      if (!isDomainError(failure) && !(failure instanceof Joi.ValidationError)) throw failure;
      ctx.status = isDomainError(failure) ? failure.status : 400;
      const code = isDomainError(failure) ? failure.code : 'AUTHORIZATION_LINK_INVALID';
      ctx.body = resultPage({
        isSuccess: false,
        title: '授权没有完成',
        lines: [messageForCode(code), `（${code}，请求编号 ${ctx.state.requestId}）`],
      });
    }
  });
  return router;
}
