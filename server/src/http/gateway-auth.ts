import type { Middleware } from 'koa';
import {
  gatewaySecretKey,
  isGatewayTimestampFresh,
  verifyGatewaySignature,
  type GatewaySecret,
} from '../../../shared/gateway-signature.js';
import { consumeNonce, findGatewayClient } from '../db/repos/schools/gateway-clients.js';
import type { Deps } from '../deps.js';
import { DomainError } from '../domain/errors.js';

/**
 * POS gateway authentication (DESIGN §6.2, docs/gateway-api.md): X-Client-Id names an active client,
 * X-Timestamp is within the window, X-Signature is the HMAC of METHOD, the request target exactly as sent
 * (`ctx.originalUrl`), the timestamp, the nonce and the raw body bytes, with the client's secret (or, during
 * a rotation's grace period, its previous one). Every failure gets the same 401 GATEWAY_AUTH_FAILED, so the
 * answer tells an attacker nothing about which part was wrong.
 *
 * The nonce is not spent here: the deduct route spends it inside its decision function (one round trip
 * for the whole request), the other routes with `spendNonce` below.
 */

export interface GatewayState {
  clientId: string;
  schoolId: string;
  /** POS (the card system's gateways) or TERMINAL (a vending machine or window): each has its own routes. */
  kind: GatewayClientKind;
  nonce: string;
  /** The nonce must be remembered until the request's timestamp leaves the window. */
  nonceExpiresAt: Date;
}

export type GatewayClientKind = 'POS' | 'TERMINAL';

interface CachedClient {
  schoolId: string;
  kind: GatewayClientKind;
  secrets: Array<{ secret: GatewaySecret; validUntilMs: number }>;
}

const NONCE_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;
const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CACHED_CLIENTS = 10_000;
const UNPARSED_BODY = Symbol.for('unparsedBody');

/**
 * The body bytes as received (koa-body's includeUnparsed, on in app.ts): koa-body 8 keeps them on
 * `ctx.request.rawBody`; older versions under a symbol on the parsed body. GETs and bodies that were not
 * parsed (no JSON, form or text content type) count as empty.
 */
function rawBodyOf(request: { rawBody?: unknown; body?: unknown }): string {
  if (typeof request.rawBody === 'string') return request.rawBody;
  const body = request.body as Record<symbol, unknown> | undefined;
  const legacy = body?.[UNPARSED_BODY];
  return typeof legacy === 'string' ? legacy : '';
}

function rejected(): DomainError {
  return new DomainError('GATEWAY_AUTH_FAILED');
}

/**
 * Gateway clients by id, decrypted (the secrets as HMAC keys, made once), kept for `config.gateway.clientCacheMs` (default 30 s) so that a swipe
 * costs no lookup: a revoked or rotated-out secret keeps working in a process for up to that long.
 * Unknown ids are remembered too, so that a flood of made-up ids does not reach the database.
 */
export class GatewayClientCache {
  private readonly entries = new Map<string, { client: CachedClient | null; at: number }>();

  constructor(private readonly deps: Pick<Deps, 'db' | 'protector' | 'config'>) {}

  async get(clientId: string, nowMs: number): Promise<CachedClient | null> {
    const cached = this.entries.get(clientId);
    if (cached && Date.now() - cached.at < this.deps.config.gateway.clientCacheMs) return cached.client;
    const row = await findGatewayClient(this.deps.db, clientId);
    let client: CachedClient | null = null;
    if (row && row.status === 'ACTIVE') {
      const secrets = [
        { secret: gatewaySecretKey(this.deps.protector.decrypt(row.secretEnc)), validUntilMs: Infinity },
      ];
      if (
        row.previousSecretEnc &&
        row.previousSecretValidUntil &&
        row.previousSecretValidUntil.getTime() > nowMs
      )
        secrets.push({
          secret: gatewaySecretKey(this.deps.protector.decrypt(row.previousSecretEnc)),
          validUntilMs: row.previousSecretValidUntil.getTime(),
        });
      client = { schoolId: row.schoolId, kind: row.kind, secrets };
    }
    if (this.entries.size >= MAX_CACHED_CLIENTS) this.entries.clear();
    this.entries.set(clientId, { client, at: Date.now() });
    return client;
  }
}

export function gatewayAuth(deps: Pick<Deps, 'db' | 'protector' | 'config'>): Middleware {
  const clients = new GatewayClientCache(deps);
  const windowMs = deps.config.gateway.timestampWindowMs;
  return async (ctx, next) => {
    const clientId = ctx.get('x-client-id');
    const timestamp = ctx.get('x-timestamp');
    const nonce = ctx.get('x-nonce');
    const signature = ctx.get('x-signature');
    // Freshness, nonces and secret rotation are about the wire, so they follow the wall clock; the domain
    // clock (deps.clock) is the business's "now", which tests move by days (late and expired uploads).
    const nowMs = Date.now();
    if (!CLIENT_ID_PATTERN.test(clientId) || !NONCE_PATTERN.test(nonce)) throw rejected();
    if (!isGatewayTimestampFresh(timestamp, nowMs, windowMs)) throw rejected();
    const client = await clients.get(clientId, nowMs);
    if (!client) throw rejected();
    const raw = rawBodyOf(ctx.request);
    const parts = {
      method: ctx.method,
      path: ctx.originalUrl,
      timestamp,
      nonce,
      body: raw,
    };
    const isSigned = client.secrets.some(
      (s) => s.validUntilMs > nowMs && verifyGatewaySignature(s.secret, parts, signature),
    );
    if (!isSigned) throw rejected();
    ctx.state.gateway = {
      clientId,
      schoolId: client.schoolId,
      kind: client.kind,
      nonce,
      nonceExpiresAt: new Date(Math.max(nowMs, Number(timestamp)) + windowMs),
    } satisfies GatewayState;
    await next();
  };
}

/**
 * Routes for one kind of client: a vending machine's client (a third party's device) must not decide canteen
 * swipes, and a POS gateway has no terminal orders. Checked after the signature, so it says nothing to
 * anyone who cannot sign.
 */
export function onlyClients(kind: GatewayClientKind): Middleware {
  return async (ctx, next) => {
    if ((ctx.state.gateway as GatewayState).kind !== kind)
      throw new DomainError(
        'FORBIDDEN',
        `This route is for ${kind === 'POS' ? 'POS gateway' : 'terminal'} clients`,
      );
    await next();
  };
}

/** Spends the nonce of an authenticated request; a second use within the window is a replay (401). */
export function spendNonce(deps: Pick<Deps, 'db'>): Middleware {
  return async (ctx, next) => {
    const gateway = ctx.state.gateway as GatewayState;
    if (!(await consumeNonce(deps.db, gateway.clientId, gateway.nonce, gateway.nonceExpiresAt)))
      throw rejected();
    await next();
  };
}
