import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from '../context.js';
import type { ApiFaultRule } from '../faults.js';
import { endText, endUnexpected, endWith, readBody } from '../http-answers.js';
import { newTraceId } from '../ids.js';
import { isDebugEnabled } from '../logger.js';
import { AlipayError, codeOfSubCode, msgOfCode } from '../protocol/alipay-error.js';
import { ERROR_RESPONSE_KEY, renderEnvelope, responseKeyOf } from '../protocol/envelope.js';
import { isSupportedCharset, parseForm, parseFormBytes } from '../protocol/form.js';
import type { ApiDefinition, GatewayCall } from './api.js';
import { checkGatewayRequest } from './checks.js';

const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/**
 * Query string and form body merged (ALIPAY.md §1.4: alipay-sdk puts the common params in the URL and the rest
 * in an urlencoded body; §7 item 1: decode with the request's `charset`, which the SDK puts in the URL).
 */
async function readParams(req: IncomingMessage, query: string): Promise<Record<string, string>> {
  const type = req.headers['content-type'];
  const body =
    req.method === 'POST' && (!type || type.includes('application/x-www-form-urlencoded'))
      ? await readBody(req, BODY_LIMIT_BYTES, () => new Error('request body too large'))
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

function send(res: ServerResponse, traceId: string, body: string): void {
  // A 2026 probe saw text/html on the JSON body (ALIPAY.md §2.1); the SDK reads it as text either way.
  endWith(res, 200, ['trace_id', traceId, 'Content-Type', 'text/html;charset=utf-8'], body);
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

/**
 * POST/GET /gateway.do on node:http (`query`: the URL's query string): parse, check, apply faults, dispatch,
 * answer in Alipay's signed envelope. Never rejects: a failure is answered as Koa answered it.
 */
export function gatewayHandler(
  sandbox: SandboxContext,
  apiTable: ReadonlyMap<string, ApiDefinition>,
): (req: IncomingMessage, res: ServerResponse, query: string) => Promise<void> {
  const debug = isDebugEnabled(sandbox.logger);
  const serve = async (req: IncomingMessage, res: ServerResponse, query: string): Promise<void> => {
    const traceId = newTraceId();
    const params = await readParams(req, query);
    const verdict = checkGatewayRequest(sandbox, params, apiTable);
    if (!verdict.accepted) {
      if (debug)
        sandbox.logger.debug('gateway rejected', { method: params.method, subCode: verdict.error.subCode });
      const signer = verdict.signType
        ? { privateKey: sandbox.keys.privateKey, signType: verdict.signType }
        : undefined;
      send(res, traceId, renderEnvelope(verdict.responseKey, verdict.error.toBody(), signer));
      return;
    }
    const { call, api } = verdict;
    const signer = { privateKey: sandbox.keys.privateKey, signType: call.signType };
    if (api.isPageApi) {
      send(
        res,
        traceId,
        '<p>Alipay sandbox: this is a page API. In a mini-program the signed string goes to my.paySignCenter; ' +
          'in the sandbox, POST it to /control/agreements/sign (see docs/sandbox.md).</p>',
      );
      return;
    }

    const fault = sandbox.faults.takeApiFault(call.method);
    let answer: Answer | undefined;
    if (fault) {
      if (fault.latencyMs) {
        await sandbox.timers.sleep(fault.latencyMs);
        // Closing: Koa's default answer to a route that set no body.
        if (sandbox.timers.isClosed) return endText(res, 404, ['trace_id', traceId], 'Not Found');
      }
      if (fault.payInProcess && call.method === 'alipay.trade.pay') call.payInProcess = fault.payInProcess;
      if (fault.applyEffect && (fault.error || fault.hangMs !== undefined)) runApi(sandbox, api, call);
      if (fault.hangMs !== undefined) {
        await sandbox.timers.sleep(fault.hangMs);
        req.socket.destroy();
        return;
      }
      if (fault.error) answer = faultAnswer(api, call, fault);
    }
    answer ??= runApi(sandbox, api, call);
    if (debug) sandbox.logger.debug('gateway answered', { method: call.method, code: answer.inner.code });
    send(res, traceId, renderEnvelope(answer.key, answer.inner, signer));
  };
  return (req, res, query) =>
    serve(req, res, query).catch((error) => endUnexpected(sandbox.logger, res, error));
}
