import http from 'node:http';
import https from 'node:https';
import {
  buildGatewayHeaders,
  gatewaySecretKey,
  type GatewaySecret,
} from '../../../../shared/gateway-signature.js';
import { recordCallbackAcknowledged } from '../../db/repos/terminals/batched-writes.js';
import {
  recordCallbackAttempt,
  TERMINAL_CALLBACKS_DUE_CHANNEL,
  type DueCallback,
} from '../../db/repos/terminals/orders.js';
import { wakeDrainers } from '../../db/wakeups.js';
import type { Deps } from '../../deps.js';
import { orderAnswer } from './orders.js';

/**
 * Telling the machine its order is paid (issue #15 "Orders" 2): `POST <callbackUrl>` with the order as JSON
 * (TerminalOrderAnswer), signed with the terminal's own client secret exactly like the machine signs its
 * requests (docs/gateway-api.md), so the machine can check it came from us. Any 2xx acknowledges; anything else
 * (or no answer within CALLBACK_TIMEOUT_MS) is tried again after TERMINAL_CALLBACK_RETRY_MS (the
 * drainer takes rows as they come due), then GAVE_UP for
 * the admins (the machine can still poll GET …/terminal-orders/:outOrderNo). A callback may arrive more than
 * once (an acknowledgement lost on the way): the machine treats a repeat for a paid order as already known.
 */

const CALLBACK_TIMEOUT_MS = 5_000;

/** Kept-alive connections to the machines, per process (a paid callback per order is the hot path). */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/**
 * POSTs a JSON body and answers the HTTP status once the answer has been read; a network failure or no
 * whole answer within `timeoutMs` rejects (a TimeoutError for the latter). Redirects are not followed: a
 * signed callback goes where the terminal says, or fails. (node:http rather than fetch: a fraction of the CPU.)
 */
function postJson(target: URL, headers: Record<string, string>, body: string, timeoutMs: number) {
  return new Promise<number>((resolve, reject) => {
    const protocol = target.protocol as keyof typeof agents;
    if (!(protocol in agents)) throw new Error(`unsupported callback URL ${target.protocol}`);
    const request = (protocol === 'https:' ? https : http).request(
      target,
      {
        method: 'POST',
        agent: agents[protocol],
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
        });
        res.resume();
      },
    );
    const timer = setTimeout(
      () => request.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
      timeoutMs,
    );
    timer.unref();
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(body);
  });
}

/**
 * The terminals' client secrets as HMAC keys, by their stored ciphertext: decrypted and imported once per
 * process instead of per callback (a rotated secret is stored as another ciphertext, so it is never served
 * stale). Bounded like gateway-auth's client cache, which holds the same secrets for the machines' requests.
 */
const callbackKeys = new Map<string, GatewaySecret>();
const MAX_CALLBACK_KEYS = 10_000;

function callbackKey(deps: Pick<Deps, 'protector'>, secretEnc: string): GatewaySecret {
  let key = callbackKeys.get(secretEnc);
  if (!key) {
    if (callbackKeys.size >= MAX_CALLBACK_KEYS) callbackKeys.clear();
    key = gatewaySecretKey(deps.protector.decrypt(secretEnc));
    callbackKeys.set(secretEnc, key);
  }
  return key;
}

/** How long a callback is leased to the process sending it (the drainer's, or the one that saw it paid). */
export const CALLBACK_LEASE_MS = 30_000;

/**
 * Sends, in the background, a callback this process holds the lease of (the paid notification's statement
 * took it): the machine hears of the payment without a drainer's wake-up and claim, and Alipay's answer does
 * not wait for the machine. A failed attempt is scheduled again as any other.
 */
export function sendLeasedCallback(deps: Deps, due: DueCallback): void {
  deliverCallback(deps, due).catch((error: unknown) =>
    // The lease runs out and the drainer tries again.
    deps.logger.warn('terminal callback not recorded', { orderNo: due.order.orderNo, error }),
  );
}

/** Tells the callback drainer (jobs/terminals/terminal-callbacks.ts) that a paid order waits. */
export function wakeCallbacks(deps: Pick<Deps, 'pool'>): void {
  wakeDrainers(deps.pool, TERMINAL_CALLBACKS_DUE_CHANNEL);
}

/** One attempt of the callback of an order the drainer has claimed (leased), with what it read for it. */
export async function deliverCallback(deps: Deps, due: DueCallback): Promise<void> {
  const { id: orderId, order, client, callbackUrl: url } = due;
  if (!client || !url) {
    await recordCallbackAttempt(deps.db, orderId, { callbackStatus: null, callbackNextAt: null });
    return;
  }
  const body = JSON.stringify(orderAnswer(deps, order, due.paidWith ? { channel: due.paidWith } : null));
  const target = new URL(url);
  let error: string | null = null;
  try {
    const headers = buildGatewayHeaders({
      clientId: client.id,
      secret: callbackKey(deps, client.secretEnc),
      method: 'POST',
      path: target.pathname + target.search,
      body,
    });
    const status = await postJson(target, headers, body, CALLBACK_TIMEOUT_MS);
    if (status < 200 || status > 299) error = `HTTP ${status}`;
  } catch (failure) {
    error = (failure as Error).name === 'TimeoutError' ? 'timeout' : (failure as Error).message;
  }
  const attempts = order.callbackAttempts + 1;
  const at = deps.clock.now();
  if (!error) {
    await recordCallbackAcknowledged(deps.pool, { id: orderId, attempts, at });
    return;
  }
  const delay = deps.config.terminals.callbackRetryMs[attempts - 1];
  const next = delay === undefined ? null : new Date(at.getTime() + delay);
  await recordCallbackAttempt(deps.db, orderId, {
    callbackStatus: next ? 'PENDING' : 'GAVE_UP',
    callbackAttempts: attempts,
    callbackNextAt: next,
    callbackLastError: error.slice(0, 200),
    updatedAt: at,
  });
  // The drainer schedules the retry (its runs end by scheduling the next due row).
  if (next) wakeCallbacks(deps);
  else deps.logger.warn('terminal callback gave up', { orderNo: order.orderNo, error });
}
