import fs from 'node:fs';
import readline from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import iconv from 'iconv-lite';
import { openZipEntry, zipEntries, ZipFileError } from '../../lib/zip-file.js';

/**
 * Alipay's trade bill (ALIPAY.md §4.14, ALIPAY-M2.md §6): a zip of GBK CSVs, the detail file
 * `…_业务明细.csv` beside a summary `…_业务明细(汇总).csv` (which may come first). The detail table sits between
 * `#` comment lines; cells of long numbers end in a tab; columns are found by their header names, because some
 * merchants' files carry extra ones. Rows are yielded one at a time: the CSV is decoded and split as a
 * stream, so memory does not grow with the number of rows: the zip is downloaded to a file and its entry read
 * back from there as a stream (lib/zip-file.ts), never whole in memory.
 */

export interface TradeBillRow {
  /** 1-based position among the detail rows. */
  lineNo: number;
  tradeNo: string;
  outTradeNo: string;
  isRefund: boolean;
  refundRequestNo: string | null;
  subject: string;
  /** 订单金额 / 商家实收 / 服务费 / 分润 in fen; negative on refund rows, as in the file. */
  amountFen: number;
  receivedFen: number;
  feeFen: number;
  royaltyFen: number;
  /** 完成时间 (Beijing). */
  finishedAt: Date | null;
  terminalId: string | null;
  memo: string | null;
}

export class TradeBillError extends Error {
  override name = 'TradeBillError';
}

const COLUMNS = {
  tradeNo: '支付宝交易号',
  outTradeNo: '商户订单号',
  type: '业务类型',
  subject: '商品名称',
  finishedAt: '完成时间',
  terminalId: '终端号',
  amount: '订单金额（元）',
  received: '商家实收（元）',
  refundRequestNo: '退款批次号/请求号',
  fee: '服务费（元）',
  royalty: '分润（元）',
  memo: '备注',
} as const;
const REQUIRED: ReadonlyArray<keyof typeof COLUMNS> = ['tradeNo', 'outTradeNo', 'type', 'amount'];

/**
 * Downloads the zip behind a bill_download_url (which lives about 30 s: fetch it at once) into `file`,
 * streamed, at most `maxBytes`. Returns its size.
 */
export async function downloadBill(
  url: string,
  file: string,
  timeoutMs: number,
  maxBytes = 512 * 1024 * 1024,
): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok || !response.body)
    throw new TradeBillError(`bill download answered HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new TradeBillError(`bill of ${declared} bytes is over the limit`);
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) done(new TradeBillError(`bill of more than ${maxBytes} bytes is over the limit`));
      else done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), limit, fs.createWriteStream(file));
  return bytes;
}

/** The detail CSV of a trade bill zip file: the entry named …业务明细.csv that is not the summary. */
export async function openDetailCsv(zipFile: string): Promise<{ name: string; stream: Readable }> {
  try {
    // Entry names are GBK without the UTF-8 flag (Chinese Windows zips).
    const entries = (await zipEntries(zipFile))
      .map((entry) => ({
        entry,
        name: entry.isUtf8 ? entry.nameBytes.toString('utf8') : iconv.decode(entry.nameBytes, 'gbk'),
      }))
      .filter((e) => /\.csv$/i.test(e.name));
    const detail = entries.find((e) => e.name.includes('业务明细') && !e.name.includes('汇总'));
    if (!detail)
      throw new TradeBillError(`no 业务明细 file in the zip (${entries.map((e) => e.name).join(', ')})`);
    return { name: detail.name, stream: await openZipEntry(zipFile, detail.entry) };
  } catch (error) {
    if (error instanceof ZipFileError) throw new TradeBillError(error.message);
    throw error;
  }
}

/** One CSV line: quoted cells ("a,b" and "" escapes) and plain ones; each trimmed of Alipay's tabs. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((c) => c.trim());
  const cells: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(current.trim());
      current = '';
    } else current += ch;
  }
  cells.push(current.trim());
  return cells;
}

/** "-12.30" / "12.3" / "" → fen, without floating point. */
export function yuanCellToFen(text: string, column: string, lineNo: number): number {
  const value = text.trim();
  if (value === '') return 0;
  const match = /^(-)?(\d{1,12})(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) throw new TradeBillError(`line ${lineNo}: ${column} is not an amount: ${JSON.stringify(text)}`);
  const fen = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'));
  return match[1] && fen !== 0 ? -fen : fen;
}

let lastTimeText = '';
let lastTime: Date | null = null;

/** "2026-12-05 12:30:00" (Beijing) → Date; rows of one second share it (the last one is kept). */
function beijingTime(text: string): Date | null {
  if (text === lastTimeText) return lastTime;
  lastTimeText = text;
  lastTime = parseBeijingTime(text);
  return lastTime;
}

function parseBeijingTime(text: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h - 8, mi, s));
}

/** The rows of the detail CSV, decoded from GBK as they stream in. */
export async function* readTradeBillRows(csv: Readable): AsyncGenerator<TradeBillRow> {
  const lines = readline.createInterface({
    input: csv.pipe(iconv.decodeStream('gbk')),
    crlfDelay: Infinity,
  });
  let index: Record<keyof typeof COLUMNS, number> | undefined;
  let lineNo = 0;
  for await (const raw of lines) {
    const line = raw.replace(/^\uFEFF/, '');
    if (line === '' || line.startsWith('#')) continue;
    const cells = splitCsvLine(line);
    if (!index) {
      const found = Object.fromEntries(
        Object.entries(COLUMNS).map(([key, title]) => [key, cells.indexOf(title)]),
      ) as Record<keyof typeof COLUMNS, number>;
      const missing = REQUIRED.filter((key) => found[key] < 0);
      if (missing.length > 0)
        throw new TradeBillError(`bill header lacks ${missing.map((k) => COLUMNS[k]).join(', ')}`);
      index = found;
      continue;
    }
    lineNo += 1;
    const at = (key: keyof typeof COLUMNS) => (index![key] >= 0 ? (cells[index![key]] ?? '') : '');
    const type = at('type');
    if (type !== '交易' && type !== '退款')
      throw new TradeBillError(`line ${lineNo}: 业务类型 ${JSON.stringify(type)} is neither 交易 nor 退款`);
    const amountFen = yuanCellToFen(at('amount'), COLUMNS.amount, lineNo);
    yield {
      lineNo,
      tradeNo: at('tradeNo'),
      outTradeNo: at('outTradeNo'),
      isRefund: type === '退款',
      refundRequestNo: at('refundRequestNo') || null,
      subject: at('subject'),
      amountFen,
      receivedFen: index.received >= 0 ? yuanCellToFen(at('received'), COLUMNS.received, lineNo) : amountFen,
      feeFen: yuanCellToFen(at('fee'), COLUMNS.fee, lineNo),
      royaltyFen: yuanCellToFen(at('royalty'), COLUMNS.royalty, lineNo),
      finishedAt: beijingTime(at('finishedAt')),
      terminalId: at('terminalId') || null,
      memo: at('memo') || null,
    };
  }
  if (!index) throw new TradeBillError('no header row in the bill');
}
