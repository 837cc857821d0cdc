import type { SchoolRow } from '../db/repos/schools/schools.js';
import type { DataProtector } from '../lib/crypto.js';
import { CardSystemError, createCardSystem, type CardSystem } from './cardsys/index.js';
import { observeCardSystem } from './cardsys/observed-card-system.js';
import type { OutsideCallObserver } from './outside-calls.js';

/**
 * Per-school access to the outside world, built from the `schools` row: its card system (endpoint and
 * decrypted credentials) and its Alipay app_auth_token for ISV calls. Clients are cached per school and
 * rebuilt when the row changes.
 */
export class SchoolConnections {
  private readonly cardSystems = new Map<string, { version: number; system: CardSystem }>();
  private readonly tokens = new Map<string, { version: number; token: string | null }>();

  constructor(
    private readonly protector: DataProtector,
    private readonly cardsysTimeoutMs: number,
    /** Told of every card-system call made for an order (the admins' order timeline). */
    private readonly observeCalls?: OutsideCallObserver,
  ) {}

  cardSystem(school: SchoolRow): CardSystem {
    const version = school.updatedAt.getTime();
    const cached = this.cardSystems.get(school.id);
    if (cached?.version === version) return cached.system;
    if (!school.cardsysEndpoint || !school.cardsysUsername || !school.cardsysPasswordEnc) {
      // A PENDING school whose card system the operator has not connected yet.
      throw new CardSystemError({
        code: 'CARD_SYSTEM_UNAVAILABLE',
        classification: 'final',
        reason: 'NOT_CONNECTED',
        operation: 'getCardHolder',
        message: `school ${school.code} has no card system connected`,
      });
    }
    const vendor = createCardSystem({
      endpoint: school.cardsysEndpoint,
      username: school.cardsysUsername,
      password: this.protector.decrypt(school.cardsysPasswordEnc),
      timeoutMs: this.cardsysTimeoutMs,
    });
    const system = this.observeCalls ? observeCardSystem(vendor, this.observeCalls) : vendor;
    this.cardSystems.set(school.id, { version, system });
    return system;
  }

  /** A client for settings not stored yet: the operator's connection test (school connect-cardsys). */
  cardSystemFor(connection: { endpoint: string; username: string; password: string }): CardSystem {
    return createCardSystem({ ...connection, timeoutMs: this.cardsysTimeoutMs });
  }

  /** The token we send as app_auth_token when calling Alipay for this school; null for direct mode. */
  appAuthToken(school: Pick<SchoolRow, 'id' | 'updatedAt' | 'alipayAppAuthTokenEnc'>): string | null {
    const version = school.updatedAt.getTime();
    const cached = this.tokens.get(school.id);
    if (cached?.version === version) return cached.token;
    const token = school.alipayAppAuthTokenEnc ? this.protector.decrypt(school.alipayAppAuthTokenEnc) : null;
    this.tokens.set(school.id, { version, token });
    return token;
  }
}
