import type { KeyObject } from 'node:crypto';
import { signText, type SignType } from './sign-content.js';

/** `alipay.trade.query` → `alipay_trade_query_response` (ALIPAY.md §2.1). */
export function responseKeyOf(method: string): string {
  return `${method.replaceAll('.', '_')}_response`;
}

export const ERROR_RESPONSE_KEY = 'error_response';

export interface EnvelopeSigner {
  privateKey: KeyObject;
  signType: SignType;
}

/**
 * Serialises the inner object once, with `/` escaped as `\/` like Alipay does, signs exactly those bytes and
 * splices them into the envelope without re-serialising (ALIPAY.md §2.2 "What a simulator should do").
 * Without a signer the envelope carries no `sign`, as gateway-level rejections do.
 */
export function renderEnvelope(
  key: string,
  inner: Readonly<Record<string, unknown>>,
  signer?: EnvelopeSigner,
  trailer?: Readonly<Record<string, string>>,
): string {
  const innerJson = serialiseInner(inner);
  const signature = signer && signText(innerJson, signer.privateKey, signer.signType);
  return assemble(key, innerJson, signature, trailer);
}

function serialiseInner(inner: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(inner).replaceAll('/', '\\/');
}

function assemble(
  key: string,
  innerJson: string,
  signature: string | undefined,
  trailer?: Readonly<Record<string, string>>,
): string {
  let out = `{${JSON.stringify(key)}:${innerJson}`;
  if (signature !== undefined) out += `,"sign":${JSON.stringify(signature)}`;
  if (trailer) {
    for (const [name, value] of Object.entries(trailer))
      out += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
  }
  return `${out}}`;
}
