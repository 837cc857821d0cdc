import { CardSystemError } from '../integrations/cardsys/index.js';
import { AlipayError } from '../integrations/alipay/errors.js';
import type { Alipay } from '../integrations/alipay/alipay.js';
import type { Deps } from '../deps.js';
import { DomainError } from './errors.js';

/** A card-system failure as the error a person sees; unknown errors pass through untouched. */
export function cardSystemFailure(error: unknown, field?: string): unknown {
  if (!(error instanceof CardSystemError)) return error;
  if (error.reason === 'CARD_NOT_FOUND')
    return new DomainError('CARD_NOT_FOUND', undefined, { field, cause: error });
  if (error.reason === 'CARD_LOST' || error.reason === 'CARD_FROZEN') {
    return new DomainError('CARD_NOT_NORMAL', undefined, { field, cause: error });
  }
  if (error.classification !== 'final')
    return new DomainError('CARD_SYSTEM_UNAVAILABLE', undefined, { cause: error });
  return new DomainError('CARD_SYSTEM_REJECTED', `The campus card system refused: ${error.reason}`, {
    cause: error,
  });
}

export function alipayFailure(error: unknown): unknown {
  if (!(error instanceof AlipayError)) return error;
  if (error.kind === 'final')
    return new DomainError('ALIPAY_REJECTED', `Alipay refused: ${error.reason}`, { cause: error });
  return new DomainError('ALIPAY_UNAVAILABLE', undefined, { cause: error });
}

export function requireAlipay(deps: Pick<Deps, 'alipay'>): Alipay {
  if (!deps.alipay) throw new DomainError('ALIPAY_UNAVAILABLE', 'Alipay is not configured on this server');
  return deps.alipay;
}
