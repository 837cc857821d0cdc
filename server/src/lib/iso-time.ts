/**
 * `date.toISOString()`, for code that formats many dates close together (a batch of swipes: three
 * timestamps each). Formatting a Date costs microseconds; dates of one second share everything but the
 * milliseconds, so each formatter keeps its last second's text and adds the milliseconds to it.
 */
export function isoTimestampFormatter(): (date: Date) => string {
  let lastSecond = NaN;
  let secondText = '';
  return (date) => {
    const time = date.getTime();
    const second = Math.floor(time / 1000);
    // An invalid date (NaN) never matches: toISOString throws for it, as it would have.
    if (second !== lastSecond) {
      secondText = date.toISOString().slice(0, -4);
      lastSecond = second;
    }
    return `${secondText}${String(time - second * 1000).padStart(3, '0')}Z`;
  };
}
