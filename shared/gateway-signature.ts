/**
 * HMAC signing of the POS gateway API (DESIGN §6.2). One implementation shared by the card-system sandbox
 * (which plays the POS gateway), our gateway middleware and the reference client, so the three cannot drift.
 *
 *   X-Signature = hex(HMAC-SHA256(secret, METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SHA256(body))))
 *
 * - METHOD is upper case.
 * - PATH is the request target exactly as sent: path plus query string if any (Koa `ctx.originalUrl`),
 *   e.g. `/gateway/v1/deductions`.
 * - TIMESTAMP is the X-Timestamp header: milliseconds since the epoch, decimal.
 * - The body hash is over the raw bytes as sent; an empty body hashes the empty string. The verifier must
 *   hash the raw body, never a re-serialisation of parsed JSON.
 *
 * Pure node:crypto, no HTTP framework.
 */
import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { pooledRandomBytes } from './random-pool.js';

export const GATEWAY_HEADERS = {
  clientId: 'X-Client-Id',
  timestamp: 'X-Timestamp',
  nonce: 'X-Nonce',
  signature: 'X-Signature',
} as const;

/** How far X-Timestamp may be from the verifier's clock (DESIGN §6.2: ±5 min). */
export const GATEWAY_TIMESTAMP_WINDOW_MS = 5 * 60 * 1000;

export interface GatewaySignedParts {
  method: string;
  path: string;
  timestamp: string | number;
  nonce: string;
  body: string | Uint8Array;
}

export type GatewayHeaders = Record<(typeof GATEWAY_HEADERS)[keyof typeof GATEWAY_HEADERS], string>;

/** One-shot `hash` (a string as UTF-8, as `update` takes it): a tenth of createHash's CPU for a small body. */
export function sha256Hex(body: string | Uint8Array): string {
  return hash('sha256', body, 'hex');
}

export function gatewayStringToSign(parts: GatewaySignedParts): string {
  return [
    parts.method.toUpperCase(),
    parts.path,
    String(parts.timestamp),
    parts.nonce,
    sha256Hex(parts.body),
  ].join('\n');
}

/**
 * A client's secret, or the key made of it once (gatewaySecretKey): a verifier that checks many requests of
 * one client keeps the key, so that no request pays for turning the string into a key again.
 */
export type GatewaySecret = string | KeyObject;

/** The key of a secret (its UTF-8 bytes, as HMAC takes a string secret): signs exactly as the string does. */
export function gatewaySecretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

function gatewayHmac(secret: GatewaySecret, parts: GatewaySignedParts): Buffer {
  return createHmac('sha256', secret).update(gatewayStringToSign(parts)).digest();
}

/** Lower-case hex HMAC-SHA256 of the string to sign. */
export function signGatewayRequest(secret: GatewaySecret, parts: GatewaySignedParts): string {
  return gatewayHmac(secret, parts).toString('hex');
}

/**
 * Constant-time check of a presented X-Signature. Accepts upper- or lower-case hex; anything that is not
 * 64 hex digits is simply false (never a throw), so the caller has one failure path.
 */
export function verifyGatewaySignature(
  secret: GatewaySecret,
  parts: GatewaySignedParts,
  signature: string,
): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = gatewayHmac(secret, parts);
  const presented = Buffer.from(signature, 'hex');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** Whether X-Timestamp (ms) lies within the allowed window around `nowMs`. */
export function isGatewayTimestampFresh(
  timestamp: string | number,
  nowMs: number,
  windowMs = GATEWAY_TIMESTAMP_WINDOW_MS,
): boolean {
  const value =
    typeof timestamp === 'number' ? timestamp : /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : NaN;
  return Number.isSafeInteger(value) && Math.abs(nowMs - value) <= windowMs;
}

/** 16 CSPRNG bytes as hex, from the pooled buffer (a randomBytes call of its own cost ≈ 5 µs per nonce). */
export function newGatewayNonce(): string {
  return pooledRandomBytes(16).toString('hex');
}

/** The four headers of a signed gateway request. Timestamp and nonce default to now and a fresh random value. */
export function buildGatewayHeaders(input: {
  clientId: string;
  secret: GatewaySecret;
  method: string;
  path: string;
  body: string | Uint8Array;
  timestamp?: number;
  nonce?: string;
}): GatewayHeaders {
  const timestamp = String(input.timestamp ?? Date.now());
  const nonce = input.nonce ?? newGatewayNonce();
  const signature = signGatewayRequest(input.secret, {
    method: input.method,
    path: input.path,
    timestamp,
    nonce,
    body: input.body,
  });
  return {
    [GATEWAY_HEADERS.clientId]: input.clientId,
    [GATEWAY_HEADERS.timestamp]: timestamp,
    [GATEWAY_HEADERS.nonce]: nonce,
    [GATEWAY_HEADERS.signature]: signature,
  };
}
