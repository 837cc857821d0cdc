/**
 * Alipay speaks Beijing local time (GMT+8) in `yyyy-MM-dd HH:mm:ss` strings (ALIPAY.md §1.2, §4 Money, ids,
 * time in DESIGN §4). The sandbox formats with a fixed +8 offset so that its answers do not depend on the
 * time zone of the process that runs it.
 */

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function shifted(date: Date): Date {
  return new Date(date.getTime() + BEIJING_OFFSET_MS);
}

/** 2026-11-24 03:14:50 */
export function formatBeijing(date: Date): string {
  const d = shifted(date);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** 2026-11-24 */
export function beijingDay(date: Date): string {
  return formatBeijing(date).slice(0, 10);
}

/** 2026-11 */
export function beijingMonth(date: Date): string {
  return formatBeijing(date).slice(0, 7);
}

/** 20261124 */
export function compactBeijingDay(date: Date): string {
  return beijingDay(date).replaceAll('-', '');
}

/** `yyyy-MM-dd HH:mm:ss` read as Beijing time; undefined when the text is not a real moment in that format. */
export function parseBeijing(text: string): Date | undefined {
  const match = TIMESTAMP_PATTERN.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  return new Date(utc - BEIJING_OFFSET_MS);
}

/** Midnight at the start of the given Beijing day (`yyyy-MM-dd`), as an instant. */
export function startOfBeijingDay(day: string): Date {
  const parsed = parseBeijing(`${day} 00:00:00`);
  if (!parsed) throw new RangeError(`not a day: ${day}`);
  return parsed;
}
