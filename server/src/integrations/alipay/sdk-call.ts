import { AlipayRequestError, type AlipaySdk } from 'alipay-sdk';
import { alipayCalls, outcomeOf } from '../../lib/metrics.js';
import { AlipayError, classifyFailure } from './errors.js';

export type AlipayResponse = Record<string, unknown> & {
  code?: string;
  msg?: string;
  subCode?: string;
  subMsg?: string;
};

interface CallOptions {
  appAuthToken?: string;
  notifyUrl?: string;
  /** Top-level (non biz_content) parameters, e.g. oauth's grant_type and code. */
  params?: Record<string, unknown>;
  bizContent?: Record<string, unknown>;
  /** Business codes besides 10000 that the caller handles itself (e.g. 10003 for trade.pay). */
  accept?: string[];
}

function networkKind(error: unknown): 'unknown' | 'retryable' {
  const cause = (error as { cause?: { code?: string; name?: string } }).cause;
  // Refused before any byte was sent: Alipay never saw the request. Anything else may have reached it.
  return cause?.code === 'ECONNREFUSED' ? 'retryable' : 'unknown';
}

/**
 * One signed call through alipay-sdk's exec(), with the response signature verified, and every way it
 * can fail turned into an AlipayError. `exec` does not throw on business failures (ALIPAY.md §1.6), so the
 * code is checked here; it throws on transport and signature problems, which are classified as well.
 */
export async function callAlipay(
  sdk: AlipaySdk,
  method: string,
  options: CallOptions = {},
): Promise<AlipayResponse> {
  const started = performance.now();
  let outcome = 'ok';
  try {
    return await exec(sdk, method, options);
  } catch (error) {
    outcome = outcomeOf(error);
    throw error;
  } finally {
    alipayCalls.observe({ method, outcome }, (performance.now() - started) / 1000);
  }
}

async function exec(sdk: AlipaySdk, method: string, options: CallOptions): Promise<AlipayResponse> {
  const params: Record<string, unknown> = { ...options.params };
  if (options.bizContent) params.bizContent = options.bizContent;
  // Never send empty parameters: the gateway drops them before checking the signature (ALIPAY.md §1.3).
  if (options.appAuthToken) params.appAuthToken = options.appAuthToken;
  if (options.notifyUrl) params.notifyUrl = options.notifyUrl;

  let response: AlipayResponse;
  try {
    response = (await sdk.exec(method, params, { validateSign: true })) as AlipayResponse;
  } catch (error) {
    throw fromThrown(method, error);
  }
  const code = response.code;
  // oauth.token answers without code/msg on success (ALIPAY.md §4.1).
  if (code === undefined || code === '10000' || options.accept?.includes(code)) return response;
  throw new AlipayError(
    classifyFailure(code, response.subCode),
    method,
    code,
    response.subCode,
    String(response.subMsg ?? response.msg ?? ''),
  );
}

/**
 * exec() throws for transport errors, bad HTTP status, unparseable bodies and failed signature checks.
 * Two of those are really business answers: the SDK verifies only `<method>_response`, so a signed
 * `error_response` (oauth failures) fails verification, and gateway rejections carry no sign at all
 * (ALIPAY.md §1.6, §2.1). An error answer moves no money, so reading it unverified is safe.
 */
function fromThrown(method: string, error: unknown): AlipayError {
  const raw = (error as AlipayRequestError).responseDataRaw ?? '';
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as Record<
        string,
        { code?: string; sub_code?: string; sub_msg?: string; msg?: string }
      >;
      const body = parsed.error_response ?? parsed[`${method.replaceAll('.', '_')}_response`];
      if (body?.code && body.code !== '10000') {
        return new AlipayError(
          classifyFailure(body.code, body.sub_code),
          method,
          body.code,
          body.sub_code,
          body.sub_msg ?? body.msg ?? '',
          { cause: error },
        );
      }
    } catch {
      // not JSON: fall through
    }
  }
  if (error instanceof AlipayRequestError) {
    const isTransport = /HttpClient Request error|HTTP 请求错误/.test(error.message);
    if (isTransport)
      return new AlipayError(networkKind(error), method, 'NETWORK', undefined, error.message, {
        cause: error,
      });
    // A response we cannot trust (bad signature, malformed): the call may have taken effect.
    return new AlipayError('unknown', method, 'UNVERIFIED_RESPONSE', undefined, error.message, {
      cause: error,
    });
  }
  return new AlipayError(
    'unknown',
    method,
    'CLIENT_ERROR',
    undefined,
    (error as Error)?.message ?? String(error),
    { cause: error },
  );
}
