import { beijingDay, beijingMonth, startOfBeijingDay } from '../beijing-time.js';
import type { ApiHandler } from '../gateway/api.js';
import { businessError } from '../protocol/alipay-error.js';
import { billZipName, type BillPeriod } from '../bill/bill-file.js';
import { optionalText } from './biz.js';

const DAY_MS = 24 * 3_600_000;

function periodOf(billDate: string): BillPeriod | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(billDate)) {
    let from: Date;
    try {
      from = startOfBeijingDay(billDate);
    } catch {
      return undefined;
    }
    return { label: billDate.replaceAll('-', ''), from, to: new Date(from.getTime() + DAY_MS) };
  }
  const month = /^(\d{4})-(\d{2})$/.exec(billDate);
  if (month && Number(month[2]) >= 1 && Number(month[2]) <= 12) {
    const from = startOfBeijingDay(`${billDate}-01`);
    const next =
      Number(month[2]) === 12
        ? `${Number(month[1]) + 1}-01`
        : `${month[1]}-${String(Number(month[2]) + 1).padStart(2, '0')}`;
    return { label: billDate.replace('-', ''), from, to: startOfBeijingDay(`${next}-01`) };
  }
  return undefined;
}

/**
 * alipay.data.dataservice.bill.downloadurl.query (ALIPAY.md §4.14): `trade` and `signcustomer` bills of the
 * acting merchant, daily (yyyy-MM-dd) or monthly (yyyy-MM), only for days/months that are over. Errors carry
 * no ACQ. prefix; the argument error uses the canonical spelling INVALID_ARGUMENTS (§8: the real enum has
 * INVAILID_ARGUMENTS).
 */
export const billDownloadUrlQuery: ApiHandler = (ctx, call) => {
  const billType = optionalText(call.biz, 'bill_type');
  const billDate = optionalText(call.biz, 'bill_date');
  if (!billType || !billDate)
    throw businessError('INVALID_ARGUMENTS', '参数错误: bill_type 和 bill_date 必填');
  if (billType !== 'trade' && billType !== 'signcustomer') {
    throw businessError('TYPE_NOT_SUPPORTED', `账单类型 ${billType} 不支持`);
  }
  const period = periodOf(billDate);
  if (!period) throw businessError('INVALID_ARGUMENTS', '参数错误: bill_date 格式为 yyyy-MM-dd 或 yyyy-MM');
  const now = ctx.clock.now();
  const current = billDate.length === 10 ? beijingDay(now) : beijingMonth(now);
  if (billDate >= current) throw businessError('BILL_NOT_EXIST', '账单不存在');
  // A daily bill is generated in the morning of the next day: before that hour it does not exist yet.
  const readyAt = period.to.getTime() + ctx.settings.billReadyHourBeijing * 3_600_000;
  if (billDate.length === 10 && now.getTime() < readyAt) {
    throw businessError('BILL_NOT_EXIST', '账单尚未生成');
  }

  const download = ctx.bills.issue({ billType, merchant: call.merchant, period }, ctx.settings.billUrlTtlMs);
  const url = new URL('/downloadBillFile.resource', ctx.baseUrl());
  url.searchParams.set('bizType', billType);
  url.searchParams.set('userId', `${call.merchant.pid}0156`);
  url.searchParams.set('fileType', 'csv.zip');
  url.searchParams.set('bizDates', period.label);
  url.searchParams.set('downloadFileName', billZipName(call.merchant, period));
  url.searchParams.set('fileId', `/${billType}/${call.merchant.pid}0156/${period.label}.csv.zip`);
  url.searchParams.set('timestamp', String(now.getTime()));
  url.searchParams.set('token', download.token);
  return { code: '10000', msg: 'Success', bill_download_url: url.toString() };
};
