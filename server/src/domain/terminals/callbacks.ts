import { buildGatewayHeaders } from '../../../../shared/gateway-signature.js';
import { findGatewayClient } from '../../db/repos/schools/gateway-clients.js';
import {
  findOrderContext,
  TERMINAL_CALLBACKS_DUE_CHANNEL,
  updateOrder,
  type TerminalOrderRow,
} from '../../db/repos/terminals/orders.js';
import { wakeDrainers } from '../../db/wakeups.js';
import type { Deps } from '../../deps.js';
import { answerFor } from './orders.js';

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

/** Tells the callback drainer (jobs/terminals/terminal-callbacks.ts) that a paid order waits. */
export function wakeCallbacks(deps: Pick<Deps, 'pool'>): void {
  wakeDrainers(deps.pool, TERMINAL_CALLBACKS_DUE_CHANNEL);
}

/** One attempt of the callback of an order the drainer has claimed (leased). */
export async function deliverCallback(deps: Deps, claimed: TerminalOrderRow): Promise<void> {
  const orderId = claimed.id;
  const ctx = await findOrderContext(deps.db, orderId);
  const client = ctx && (await findGatewayClient(deps.db, ctx.terminal.gatewayClientId));
  const url = ctx?.terminal.callbackUrl;
  if (!ctx || !client || !url) {
    await updateOrder(deps.db, orderId, { callbackStatus: null, callbackNextAt: null });
    return;
  }
  const body = JSON.stringify(await answerFor(deps, claimed));
  const target = new URL(url);
  let error: string | null = null;
  try {
    const res = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...buildGatewayHeaders({
          clientId: client.id,
          secret: deps.protector.decrypt(client.secretEnc),
          method: 'POST',
          path: target.pathname + target.search,
          body,
        }),
      },
      body,
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
  } catch (failure) {
    error = (failure as Error).name === 'TimeoutError' ? 'timeout' : (failure as Error).message;
  }
  const attempts = claimed.callbackAttempts + 1;
  const at = deps.clock.now();
  if (!error) {
    await updateOrder(deps.db, orderId, {
      callbackStatus: 'ACKNOWLEDGED',
      callbackAttempts: attempts,
      callbackAcknowledgedAt: at,
      callbackNextAt: null,
      callbackLastError: null,
      updatedAt: at,
    });
    return;
  }
  const delay = deps.config.terminals.callbackRetryMs[attempts - 1];
  const next = delay === undefined ? null : new Date(at.getTime() + delay);
  await updateOrder(deps.db, orderId, {
    callbackStatus: next ? 'PENDING' : 'GAVE_UP',
    callbackAttempts: attempts,
    callbackNextAt: next,
    callbackLastError: error.slice(0, 200),
    updatedAt: at,
  });
  if (!next) deps.logger.warn('terminal callback gave up', { orderNo: ctx.order.orderNo, error });
}
