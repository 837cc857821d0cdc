import { PassThrough, type Writable } from 'node:stream';
import type { Context } from 'koa';
import type { Logger } from '../lib/logger.js';

/**
 * Answers with an XLSX workbook as a download, streamed as it is written (a day's bill can be 200,000 rows).
 * The status and headers are sent before the end: a failure while streaming cuts the download short (the
 * file then does not open) and is logged.
 */
export function sendXlsx(
  ctx: Context,
  logger: Logger,
  workbook: { fileName: string; write(out: Writable): Promise<void> },
): void {
  const body = new PassThrough();
  ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  ctx.attachment(workbook.fileName);
  ctx.body = body;
  workbook.write(body).catch((error: unknown) => {
    logger.error('workbook failed while streaming', { fileName: workbook.fileName, error });
    body.destroy(error as Error);
  });
}
