import type { SandboxClock } from '../clock.js';
import { randomHex } from '../ids.js';
import type { Merchant } from '../state/types.js';
import type { BillPeriod } from './bill-file.js';

export interface BillDownload {
  token: string;
  billType: 'trade' | 'signcustomer';
  merchant: Merchant;
  period: BillPeriod;
  expiresAt: Date;
}

/** Short-lived bill URLs handed out by bill.downloadurl.query (ALIPAY.md §4.14: they expire in about 30 s). */
export class BillDownloads {
  private readonly byToken = new Map<string, BillDownload>();

  constructor(private readonly clock: SandboxClock) {}

  issue(input: Omit<BillDownload, 'token' | 'expiresAt'>, ttlMs: number): BillDownload {
    const download: BillDownload = {
      ...input,
      token: randomHex(16),
      expiresAt: new Date(this.clock.nowMs() + ttlMs),
    };
    this.byToken.set(download.token, download);
    return download;
  }

  /** The download, if the token is known and not expired on the sandbox clock. */
  find(token: string): BillDownload | undefined {
    const download = this.byToken.get(token);
    if (!download) return undefined;
    if (download.expiresAt.getTime() <= this.clock.nowMs()) {
      this.byToken.delete(token);
      return undefined;
    }
    return download;
  }

  reset(): void {
    this.byToken.clear();
  }
}
