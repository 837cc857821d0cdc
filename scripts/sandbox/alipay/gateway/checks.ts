import type { SandboxContext } from '../context.js';
import { parseBeijing } from '../beijing-time.js';
import { AlipayError } from '../protocol/alipay-error.js';
import { ERROR_RESPONSE_KEY, responseKeyOf } from '../protocol/envelope.js';
import { isSignType, requestSignContent, verifyText, type SignType } from '../protocol/sign-content.js';
import { isSupportedCharset } from '../protocol/form.js';
import { tokenProblem } from '../domain/app-auth-tokens.js';
import type { ApiDefinition, GatewayCall } from './api.js';

export type GatewayVerdict =
  | { accepted: true; call: GatewayCall; api: ApiDefinition }
  | { accepted: false; responseKey: string; error: AlipayError; signType?: SignType };

/** Common params every call must carry, in the order their absence is reported (ALIPAY.md §1.2, §2.3 40001). */
const REQUIRED_COMMON: ReadonlyArray<[string, string]> = [
  ['method', 'isv.missing-method'],
  ['sign_type', 'isv.missing-signature-type'],
  ['sign', 'isv.missing-signature'],
  ['timestamp', 'isv.missing-timestamp'],
  ['version', 'isv.missing-version'],
];

function keyFor(method: string | undefined, api: ApiDefinition | undefined): string {
  if (!method || api?.errorsUnderErrorResponse) return ERROR_RESPONSE_KEY;
  return responseKeyOf(method);
}

/**
 * The real gateway's checks in the real order (ALIPAY.md §7 item 2):
 * app_id (unsigned rejection) → required common params → timestamp format → method → RSA2 signature with
 * Alipay's drop-empty rule (signed rejection quoting the checked string, `&` as `&amp;`) → biz_content JSON →
 * app_auth_token. Everything after the app id is known is answered signed.
 */
export function checkGatewayRequest(
  ctx: SandboxContext,
  params: Readonly<Record<string, string>>,
  apiTable: ReadonlyMap<string, ApiDefinition>,
): GatewayVerdict {
  const method = params.method || undefined;
  const api = method ? apiTable.get(method) : undefined;
  const reject = (code: string, subCode: string, subMsg: string, signType?: SignType): GatewayVerdict => ({
    accepted: false,
    responseKey: keyFor(method, api),
    error: new AlipayError(code, subCode, subMsg),
    signType,
  });

  if (!params.app_id) return reject('40001', 'isv.missing-app-id', '缺少AppID参数');
  const app = ctx.state.apps.get(params.app_id);
  if (!app) return reject('40002', 'isv.invalid-app-id', '无效的AppID参数');

  for (const [name, subCode] of REQUIRED_COMMON) {
    if (!params[name]) return reject('40001', subCode, `缺少${name}参数`, 'RSA2');
  }
  const signType = params.sign_type;
  if (!isSignType(signType)) return reject('40002', 'isv.invalid-signature-type', '无效的签名类型', 'RSA2');
  if (params.charset && !isSupportedCharset(params.charset)) {
    return reject('40002', 'isv.invalid-charset', '字符集错误', signType);
  }
  if (params.format && params.format.toUpperCase() !== 'JSON') {
    return reject('40002', 'isv.invalid-format', '无效的数据格式', signType);
  }
  if (!parseBeijing(params.timestamp)) {
    return reject('40002', 'isv.invalid-timestamp', '非法的时间戳参数，格式为yyyy-MM-dd HH:mm:ss', signType);
  }
  if (!api) return reject('40002', 'isv.invalid-method', '不存在的方法名', signType);

  const content = requestSignContent(params);
  if (!verifyText(content, params.sign, app.publicKey, signType)) {
    return reject(
      '40002',
      'isv.invalid-signature',
      `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${content.replaceAll('&', '&amp;')}`,
      signType,
    );
  }

  if (params.encrypt_type) {
    return reject('40001', 'isv.missing-encrypt-key', '应用未配置AES密钥（沙箱不支持内容加密）', signType);
  }
  let biz: Record<string, unknown> = {};
  if (params.biz_content) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params.biz_content);
    } catch {
      return reject('40002', 'isv.illegal-json', 'biz_content 不是合法的 JSON', signType);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return reject('40002', 'isv.invalid-parameter', 'biz_content 必须是 JSON 对象', signType);
    }
    biz = parsed as Record<string, unknown>;
  }

  let merchant = app.merchant;
  const appAuthToken = params.app_auth_token ? ctx.state.appAuthTokens.get(params.app_auth_token) : undefined;
  if (params.app_auth_token) {
    if (!appAuthToken || appAuthToken.isvAppId !== app.appId) {
      return reject('20001', 'aop.invalid-app-auth-token', '无效的应用授权令牌', signType);
    }
    const problem = tokenProblem(ctx, appAuthToken);
    if (problem === 'aop.app-auth-token-time-out')
      return reject('20001', problem, '应用授权令牌已过期', signType);
    if (problem) return reject('20001', problem, '无效的应用授权令牌', signType);
    merchant = appAuthToken.merchant;
  }

  return {
    accepted: true,
    api,
    call: { method: method!, params, biz, app, merchant, appAuthToken, signType },
  };
}
