/**
 * The HTTP under the `soap` client: one plain node:http request per call, in place of the axios instance
 * `soap` builds by default, whose per-request configuration merging cost the crediting worker more CPU than
 * the SOAP envelopes themselves (issue 18 §2, README "Performance"). It keeps the part of axios' contract that
 * `soap` and classify-failure.ts read:
 * - every answer resolves as `{ status, headers, data }` with the body as text, whatever its status (`soap`
 *   reads the vendor's faults from HTTP 500 answers, classify-failure.ts the status of the others);
 * - a failure rejects with the socket's own error (its `code`: ECONNREFUSED, ECONNRESET…) and the
 *   `request` (whose `reusedSocket` says whether a kept-alive connection was used); no answer within
 *   `timeout` ms of silence is ECONNABORTED, and the caller's `signal` aborts with ABORT_ERR.
 * Redirects are never followed (the vendor has none; a call that may credit is not sent twice by a redirect).
 * With `recordedAnswer` nothing is sent: that answer, received by a hand-written call (hand-written-recharge.ts),
 * is given back as this request's, so that `soap` reads it exactly as one it had received itself.
 */
import http from 'node:http';
import https from 'node:https';

/** What `soap`'s HttpClient hands its `request` function (axios' request config). */
interface SoapHttpRequest {
  url: string;
  method: string;
  headers: Record<string, string | number>;
  data?: string;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
  timeout?: number;
  signal?: AbortSignal;
  recordedAnswer?: RecordedAnswer;
}

/** An answer already received, for `soap` to read (see above). */
export type RecordedAnswer = Omit<SoapHttpResponse, 'config'>;

interface SoapHttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  data: string;
  config: SoapHttpRequest;
  request: http.ClientRequest;
}

type TransportError = Error & { code?: string; request?: http.ClientRequest };

export function soapHttpRequest(options: SoapHttpRequest): Promise<SoapHttpResponse> {
  if (options.recordedAnswer) return Promise.resolve({ ...options.recordedAnswer, config: options });
  return new Promise((resolve, reject) => {
    const url = new URL(options.url);
    const isHttps = url.protocol === 'https:';
    const request = (isHttps ? https : http).request(url, {
      method: options.method,
      headers: options.headers,
      agent: isHttps ? options.httpsAgent : options.httpAgent,
      signal: options.signal,
    });
    let settled = false;
    const fail = (error: TransportError) => {
      if (settled) return;
      settled = true;
      error.request = request;
      reject(error);
    };
    if (options.timeout) {
      request.setTimeout(options.timeout, () => {
        const error: TransportError = new Error(`timeout of ${options.timeout}ms exceeded`);
        error.code = 'ECONNABORTED';
        request.destroy(error);
      });
    }
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('close', () => {
        // The connection died before the whole answer came: as axios says it, a lost connection.
        if (!response.complete) fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          headers: response.headers,
          data: Buffer.concat(chunks).toString('utf8'),
          config: options,
          request,
        });
      });
    });
    request.end(options.data);
  });
}
