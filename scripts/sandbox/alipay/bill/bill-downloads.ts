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
  /** Files already built, by bill type, merchant and period, with what they were built from. */
  private readonly files = new Map<string, { fingerprint: string; zip: Promise<Buffer> }>();

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

  /** The file of a download: the one built before if `fingerprint` still matches, else a new one. */
  file(download: BillDownload, fingerprint: string, build: () => Promise<Buffer>): Promise<Buffer> {
    const key = `${download.billType}|${download.merchant.pid}|${download.period.label}`;
    const kept = this.files.get(key);
    if (kept?.fingerprint === fingerprint) return kept.zip;
    const zip = build();
    this.files.set(key, { fingerprint, zip });
    zip.catch(() => this.files.delete(key));
    return zip;
  }

  reset(): void {
    this.byToken.clear();
    this.files.clear();
  }
}
