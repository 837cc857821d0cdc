import type { IncomingMessage } from 'node:http';
import type { Context, Middleware } from 'koa';
import type { SandboxContext } from '../context.js';
import type { ApiFaultRule } from '../faults.js';
import { newTraceId } from '../ids.js';
import { isDebugEnabled } from '../logger.js';
import { AlipayError, codeOfSubCode, msgOfCode } from '../protocol/alipay-error.js';
import { ERROR_RESPONSE_KEY, renderEnvelope, responseKeyOf } from '../protocol/envelope.js';
import { isSupportedCharset, parseForm, parseFormBytes } from '../protocol/form.js';
import type { ApiDefinition, GatewayCall } from './api.js';
import { checkGatewayRequest } from './checks.js';

const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Query string and form body merged (ALIPAY.md §1.4: alipay-sdk puts the common params in the URL and the rest
 * in an urlencoded body; §7 item 1: decode with the request's `charset`, which the SDK puts in the URL).
 */
async function readParams(koa: Context): Promise<Record<string, string>> {
  const query = koa.querystring;
  const type = koa.get('content-type');
  const body =
    koa.method === 'POST' && (!type || type.includes('application/x-www-form-urlencoded'))
      ? await readBody(koa.req)
      : undefined;
  const charsetParam = /(?:^|&)charset=([^&]*)/i;
  const rawCharset =
    charsetParam.exec(query)?.[1] ?? (body && charsetParam.exec(body.toString('latin1'))?.[1]);
  // An unsupported charset is decoded as UTF-8 and then refused by the checks (isv.invalid-charset).
  const declared = rawCharset
    ? decodeURIComponent(rawCharset.replace(/%(?![0-9a-f]{2})/gi, '%25'))
    : undefined;
  const charset = declared && isSupportedCharset(declared) ? declared : undefined;
  const params = parseForm(query, charset);
  if (body) Object.assign(params, parseFormBytes(body, charset));
  return params;
}

function send(koa: Context, body: string): void {
  koa.status = 200;
  // A 2026 probe saw text/html on the JSON body (ALIPAY.md §2.1); the SDK reads it as text either way.
  koa.type = 'text/html;charset=utf-8';
  koa.body = body;
}

interface Answer {
  key: string;
  inner: Record<string, unknown>;
}

function runApi(sandbox: SandboxContext, api: ApiDefinition, call: GatewayCall): Answer {
  const key = responseKeyOf(call.method);
  try {
    return { key, inner: api.handle(sandbox, call) };
  } catch (error) {
    if (error instanceof AlipayError) {
      return { key: api.errorsUnderErrorResponse ? ERROR_RESPONSE_KEY : key, inner: error.toBody() };
    }
    sandbox.logger.error('alipay sandbox handler failed', { method: call.method, error: String(error) });
    const unknown = new AlipayError('20000', 'isp.unknow-error', '系统繁忙');
    return { key: api.errorsUnderErrorResponse ? ERROR_RESPONSE_KEY : key, inner: unknown.toBody() };
  }
}

function faultAnswer(api: ApiDefinition, call: GatewayCall, fault: ApiFaultRule): Answer {
  const error = fault.error!;
  const code = error.code ?? codeOfSubCode(error.subCode);
  const failure = new AlipayError(
    code,
    error.subCode,
    error.subMsg ?? (code === '20000' ? '系统繁忙' : '沙箱注入的故障'),
    {},
    error.msg ?? msgOfCode(code),
  );
  return {
    key: api.errorsUnderErrorResponse ? ERROR_RESPONSE_KEY : responseKeyOf(call.method),
    inner: failure.toBody(),
  };
}

/** POST/GET /gateway.do: parse, check, apply faults, dispatch, answer in Alipay's signed envelope. */
export function gatewayMiddleware(
  sandbox: SandboxContext,
  apiTable: ReadonlyMap<string, ApiDefinition>,
): Middleware {
  const debug = isDebugEnabled(sandbox.logger);
  return async (koa) => {
    koa.set('trace_id', newTraceId());
    const params = await readParams(koa);
    const verdict = checkGatewayRequest(sandbox, params, apiTable);
    if (!verdict.accepted) {
      if (debug)
        sandbox.logger.debug('gateway rejected', { method: params.method, subCode: verdict.error.subCode });
      const signer = verdict.signType
        ? { privateKey: sandbox.keys.privateKey, signType: verdict.signType }
        : undefined;
      send(koa, renderEnvelope(verdict.responseKey, verdict.error.toBody(), signer));
      return;
    }
    const { call, api } = verdict;
    const signer = { privateKey: sandbox.keys.privateKey, signType: call.signType };
    if (api.isPageApi) {
      koa.type = 'text/html;charset=utf-8';
      koa.body =
        '<p>Alipay sandbox: this is a page API. In a mini-program the signed string goes to my.paySignCenter; ' +
        'in the sandbox, POST it to /control/agreements/sign (see docs/sandbox.md).</p>';
      return;
    }

    const fault = sandbox.faults.takeApiFault(call.method);
    let answer: Answer | undefined;
    if (fault) {
      if (fault.latencyMs) {
        await sandbox.timers.sleep(fault.latencyMs);
        if (sandbox.timers.isClosed) return;
      }
      if (fault.payInProcess && call.method === 'alipay.trade.pay') call.payInProcess = fault.payInProcess;
      if (fault.applyEffect && (fault.error || fault.hangMs !== undefined)) runApi(sandbox, api, call);
      if (fault.hangMs !== undefined) {
        await sandbox.timers.sleep(fault.hangMs);
        koa.respond = false;
        koa.req.socket.destroy();
        return;
      }
      if (fault.error) answer = faultAnswer(api, call, fault);
    }
    answer ??= runApi(sandbox, api, call);
    if (debug) sandbox.logger.debug('gateway answered', { method: call.method, code: answer.inner.code });
    send(koa, renderEnvelope(answer.key, answer.inner, signer));
  };
}
