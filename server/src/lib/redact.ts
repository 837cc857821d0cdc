/**
 * Personal data and secrets never reach a log line (DESIGN §5). Redaction works on three levels:
 * keys whose name says "secret" or "personal" (names, open_ids) are blanked whatever their value, card
 * numbers are masked to their last four digits, and free text is scrubbed of things that look like ID
 * numbers, mobile numbers, PEM keys and bearer tokens. A failed database query is logged by its
 * PostgreSQL error code and constraint, never with its SQL text or parameters.
 */

const SECRET_KEY =
  /(pass(word)?|secret|token|private_?key|priv_?key|^key$|_key$|api_?key|encrypt_?key|authorization|^sign$|signature|auth_?code|id_?(card|no|number)|identity_?(no|number)|cert_?no|phone|mobile|tel$|cookie)/i;

/** Names of people and Alipay identities: blanked. `name` alone is too common (schools, jobs) to blank. */
const PERSONAL_KEY =
  /(holder_?name|student_?name|real_?name|user_?name$|^names?$|open_?id|buyer_?(open_?)?id|alipay_?user_?id|cert_?name)/i;
/** Card numbers: masked, so that a log line can still be matched to a card by its last digits. */
const CARD_KEY = /card_?no$|^card$|card_?number/i;

export function maskCardNo(cardNo: string): string {
  return cardNo.length > 4 ? `${'*'.repeat(cardNo.length - 4)}${cardNo.slice(-4)}` : '****';
}

/** pg's DatabaseError fields that identify a failure without repeating the data that caused it. */
interface DatabaseFailure {
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

/**
 * drizzle wraps a failed query as `Failed query: <sql>\nparams: <values>` with pg's error as its cause;
 * the values are card numbers, names and amounts. Keep the PostgreSQL code and constraint instead.
 */
function describeQueryFailure(error: Error): string | null {
  if (!error.message.startsWith('Failed query:')) return null;
  const cause = (error as { cause?: DatabaseFailure & Error }).cause;
  const facts = [
    cause?.code && `code ${cause.code}`,
    cause?.constraint && `constraint ${cause.constraint}`,
    cause?.table && `table ${cause.table}`,
    cause?.column && `column ${cause.column}`,
  ].filter(Boolean);
  return `database query failed${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

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
    const queryFailure = describeQueryFailure(value);
    if (queryFailure) return { name: value.name, message: queryFailure };
    const database = value as DatabaseFailure;
    return {
      name: value.name,
      message: redactText(value.message),
      ...(database.code && /^[0-9A-Z]{5}$/.test(database.code) ? { code: database.code } : {}),
      ...(database.constraint ? { constraint: database.constraint } : {}),
      stack: value.stack && redactText(value.stack),
    };
  }
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) out[key] = item;
    else if (SECRET_KEY.test(key) || PERSONAL_KEY.test(key)) out[key] = '[REDACTED]';
    else if (CARD_KEY.test(key) && typeof item === 'string') out[key] = maskCardNo(item);
    else out[key] = redact(item, depth + 1);
  }
  return out;
}
