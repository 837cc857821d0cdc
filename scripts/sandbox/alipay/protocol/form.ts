import iconv from 'iconv-lite';

/**
 * Parses `application/x-www-form-urlencoded` bytes (or a URL query) into a flat record. UTF-8 goes through the
 * platform's URLSearchParams; GBK (which Alipay also accepts, ALIPAY.md §1.2) is percent-decoded to bytes and
 * then decoded with iconv-lite. Repeated keys keep the last value.
 */
export function parseFormBytes(bytes: Buffer, charset: string | undefined): Record<string, string> {
  return isUtf8(charset)
    ? parseForm(bytes.toString('utf8'), charset)
    : parseForm(bytes.toString('latin1'), charset);
}

function isUtf8(charset: string | undefined): boolean {
  return !charset || /^utf-?8$/i.test(charset);
}

/** For a non-UTF-8 charset, `text` holds one byte per character (latin1), as parseFormBytes passes it. */
export function parseForm(text: string, charset: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  if (isUtf8(charset)) {
    for (const [key, value] of new URLSearchParams(text)) out[key] = value;
    return out;
  }
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    out[decodeBytes(rawKey, charset)] = decodeBytes(rawValue, charset);
  }
  return out;
}

function decodeBytes(text: string, charset: string | undefined): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '+') {
      bytes.push(0x20);
    } else if (ch === '%' && i + 2 < text.length && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(ch.charCodeAt(0) & 0xff);
    }
  }
  return iconv.decode(Buffer.from(bytes), charset ?? 'utf8');
}

export function isSupportedCharset(charset: string): boolean {
  return /^(utf-?8|gbk)$/i.test(charset);
}
