/**
 * The campus card system integration. The server builds a CardSystemConnection from the `schools` row
 * (credentials decrypted) and asks for a CardSystem; which protocol sits behind it is this folder's business.
 */
import type { CardSystem, CardSystemConnection } from './card-system.js';
import { SoapCardSystem } from './soap/soap-card-system.js';

export * from './card-system.js';
export * from './card-system-error.js';

/** Today every school's vendor speaks the SOAP protocol of seed 000; another vendor gets its own branch here. */
export function createCardSystem(connection: CardSystemConnection): CardSystem {
  return new SoapCardSystem(connection);
}
