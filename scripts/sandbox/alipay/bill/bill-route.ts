import type { Middleware } from 'koa';
import type { SandboxContext } from '../context.js';
import { billZipName, buildBillZip } from './bill-file.js';

/** GET /downloadBillFile.resource?…&token=…: the zip behind a bill_download_url, while the URL is fresh. */
export function billDownloadMiddleware(sandbox: SandboxContext): Middleware {
  return async (koa) => {
    const token = typeof koa.query.token === 'string' ? koa.query.token : '';
    const download = sandbox.bills.find(token);
    if (!download) {
      koa.status = 404;
      koa.type = 'text/plain;charset=utf-8';
      koa.body = 'bill download URL unknown or expired (they live about 30 s, ALIPAY.md §4.14)';
      return;
    }
    const trades = [...sandbox.state.tradesByNo.values()].filter((t) => t.seller === download.merchant);
    // Alipay generates a day's file once (by 09:00) and serves it: built on the first download, then kept
    // while nothing that shows in it changed (trades, refunds, royalty, corruptions, the fee rate).
    let refunds = 0;
    let settledFen = 0;
    for (const t of trades) {
      refunds += t.refunds.size;
      settledFen += t.settledFen;
    }
    const { billCorruptions } = sandbox.state;
    const fingerprint = [
      trades.length,
      refunds,
      settledFen,
      billCorruptions.length,
      sandbox.settings.billFeePermille,
    ].join('|');
    koa.type = 'application/octet-stream';
    koa.attachment(billZipName(download.merchant, download.period));
    koa.body = await sandbox.bills.file(download, fingerprint, () =>
      buildBillZip(download.billType, download.merchant, trades, download.period, sandbox.clock.now(), {
        feePermille: sandbox.settings.billFeePermille,
        corruptions: billCorruptions,
      }),
    );
  };
}
