/**
 * Personal data and secrets never reach a log line (DESIGN §5). Redaction works on two levels:
 * keys whose name says "secret" are blanked whatever their value, and free text is scrubbed of
 * things that look like ID numbers, mobile numbers, PEM keys and bearer tokens.
 */

const SECRET_KEY =
  /(pass(word)?|secret|token|private_?key|priv_?key|^key$|_key$|api_?key|encrypt_?key|authorization|^sign$|signature|auth_?code|id_?(card|no|number)|identity_?(no|number)|cert_?no|phone|mobile|tel$|cookie)/i;

const PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED KEY]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  // Mainland resident ID: 6-digit region, 8-digit birth date, 3-digit sequence, check digit.
  [
    /(?<![0-9A-Za-z])\d{6}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g,
    '[REDACTED ID]',
  ],
  // Mainland mobile number, optionally with +86.
  [/(?<![0-9A-Za-z])(\+?86[- ]?)?1[3-9]\d{9}(?![0-9A-Za-z])/g, '[REDACTED PHONE]'],
];

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[TRUNCATED]';
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      stack: value.stack && redactText(value.stack),
    };
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) && item !== undefined && item !== null ? '[REDACTED]' : redact(item, depth + 1);
  }
  return out;
}
