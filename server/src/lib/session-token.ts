import crypto from 'node:crypto';
import type { Clock } from './clock.js';

/**
 * Mini-program session tokens: `v1.<userId>.<expires (unix s)>.<hmac>`, signed with SESSION_SECRET.
 * Stateless, so any API process can check them; they expire after SESSION_TTL_SECONDS and the
 * mini-program silently logs in again (auth_base needs no consent).
 */
export type SessionCheck = { userId: string } | { error: 'INVALID' | 'EXPIRED' };

export class SessionTokens {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
  ) {
    this.key = crypto.createHash('sha256').update(`campus-card/session/${secret}`).digest();
  }

  private mac(payload: string): string {
    return crypto.createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  issue(userId: string): { token: string; expiresIn: number } {
    const expires = Math.floor(this.clock.now().getTime() / 1000) + this.ttlSeconds;
    const payload = `v1.${userId}.${expires}`;
    return { token: `${payload}.${this.mac(payload)}`, expiresIn: this.ttlSeconds };
  }

  check(token: string): SessionCheck {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') return { error: 'INVALID' };
    const payload = parts.slice(0, 3).join('.');
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(parts[3]);
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given))
      return { error: 'INVALID' };
    if (Number(parts[2]) * 1000 <= this.clock.now().getTime()) return { error: 'EXPIRED' };
    return { userId: parts[1] };
  }
}
