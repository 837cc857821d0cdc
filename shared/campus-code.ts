import iconv from 'iconv-lite';

/**
 * The Alipay campus code (校园码) as the device's decoding SDK hands it out (seed 001 §2–3): a template id
 * (`data_formwork_id`, 4 bytes big-endian), `userData` (a sequence of Vars: one unsigned length byte, then
 * that many bytes), the encoding of the name (`data_encode_type`, usually GB2312) and `in_use_time`
 * (8 bytes big-endian, ms: when the code was made).
 *
 * The seed's two layout tables were images and are lost. Our reading (docs/campus-code.md, DESIGN §7.5 as
 * we read it) is the table below and nothing else: a corrected layout is a change of one line there.
 * Bad data never throws: every problem comes back as a reason, so one bad payment never fails a batch.
 */

export type CampusCodeField =
  'schoolNo' | 'identifyId' | 'cardType' | 'cardStatus' | 'studentNo' | 'studentName' | 'extInfos';

/** userData's Vars fields in order, per template id. THE layout table. */
export const CAMPUS_CODE_LAYOUTS: Readonly<Record<number, readonly CampusCodeField[]>> = {
  4: ['schoolNo', 'identifyId', 'cardType', 'cardStatus', 'studentNo', 'studentName', 'extInfos'],
  5: ['schoolNo', 'cardType', 'cardStatus', 'studentNo', 'studentName', 'extInfos'],
};

/**
 * The trailing reserved field ("extinfos: reserved, empty for now") may be left out altogether; anything
 * after the last field is refused, because it means the data does not follow the template it claims.
 */
const OPTIONAL_TAIL: CampusCodeField = 'extInfos';

/** `data_encode_type` values we decode, by name (case-insensitive), to iconv-lite's encodings. */
const ENCODINGS: Readonly<Record<string, string>> = {
  GB2312: 'gb2312',
  GBK: 'gbk',
  GB18030: 'gb18030',
  'UTF-8': 'utf8',
  UTF8: 'utf8',
};

export const CAMPUS_CODE_ENCODE_TYPES = Object.keys(ENCODINGS);

/** Why a code's data cannot be read; the gateway answers it per payment (REJECTED with this reason). */
export type CampusCodeProblem =
  | 'UNKNOWN_TEMPLATE'
  | 'USER_DATA_TRUNCATED'
  | 'USER_DATA_LENGTH_PAST_END'
  | 'USER_DATA_TRAILING_BYTES'
  | 'BAD_SCHOOL_NO'
  | 'BAD_CARD_TYPE'
  | 'BAD_STUDENT_NO'
  | 'BAD_IDENTIFY_ID'
  | 'UNKNOWN_ENCODE_TYPE'
  | 'BAD_STUDENT_NAME'
  | 'BAD_IN_USE_TIME';

export interface CampusCodeUser {
  templateId: number;
  /** The school's national 10-digit code (学校标识码). */
  schoolNo: string;
  /** The electronic student card id (template 4 only). */
  identifyId: string | null;
  /** "00" … "15". */
  cardType: string;
  studentNo: string;
  studentName: string;
  /** in_use_time: when the student's phone made the code. */
  generatedAt: Date;
}

export type CampusCodeParse =
  { ok: true; user: CampusCodeUser } | { ok: false; reason: CampusCodeProblem; detail: string };

export interface CampusCodeInput {
  /** data_formwork_id: the int, or its 4 raw bytes (big-endian). */
  templateId: number | Uint8Array;
  userData: Uint8Array;
  encodeType: string;
  /** in_use_time: ms since the epoch, or its 8 raw bytes (big-endian). */
  inUseTime: number | Uint8Array;
}

class Refusal extends Error {
  constructor(
    readonly reason: CampusCodeProblem,
    detail: string,
  ) {
    super(detail);
  }
}

/** data_formwork_id's 4 bytes, big-endian ("请将4字节转化成int"). */
export function readTemplateId(bytes: Uint8Array): number {
  if (bytes.length !== 4) throw new RangeError('data_formwork_id is 4 bytes');
  return Buffer.from(bytes).readUInt32BE(0);
}

/** in_use_time's 8 bytes, big-endian milliseconds. */
export function readInUseTime(bytes: Uint8Array): number {
  if (bytes.length !== 8) throw new RangeError('in_use_time is 8 bytes');
  const ms = Buffer.from(bytes).readBigUInt64BE(0);
  return ms > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(ms);
}

/** The Vars fields of `userData`, in order; a missing or short field is a refusal, not an exception. */
function readVars(data: Buffer, count: number, layout: readonly CampusCodeField[]): Buffer[] {
  const fields: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i += 1) {
    if (at >= data.length) {
      if (i === count - 1 && layout[i] === OPTIONAL_TAIL) break;
      throw new Refusal('USER_DATA_TRUNCATED', `userData ends before ${layout[i]}`);
    }
    const length = data[at];
    if (at + 1 + length > data.length) {
      throw new Refusal(
        'USER_DATA_LENGTH_PAST_END',
        `${layout[i]} says ${length} bytes, ${data.length - at - 1} are left`,
      );
    }
    fields.push(data.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (at < data.length) {
    throw new Refusal('USER_DATA_TRAILING_BYTES', `${data.length - at} bytes after the last field`);
  }
  return fields;
}

const TEN_DIGITS = 10_000_000_000n;

/** school_no: a Vars of 8 bytes, a big-endian long holding the 10-digit national code. */
function schoolNoOf(bytes: Buffer): string {
  if (bytes.length !== 8) throw new Refusal('BAD_SCHOOL_NO', `school_no is ${bytes.length} bytes, not 8`);
  const value = bytes.readBigInt64BE(0);
  // A long drops leading zeros; anything that cannot be written in 10 digits is not a national code.
  if (value < 0n || value >= TEN_DIGITS)
    throw new Refusal('BAD_SCHOOL_NO', `school_no ${value} is not a 10-digit code`);
  return value.toString().padStart(10, '0');
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function asciiOf(bytes: Buffer, reason: CampusCodeProblem, field: string, maxLength: number): string {
  const text = bytes.toString('latin1');
  if (!PRINTABLE_ASCII.test(text) || text.length > maxLength)
    throw new Refusal(reason, `${field} is not printable ASCII of at most ${maxLength} characters`);
  return text;
}

function cardTypeOf(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  if (!/^\d{2}$/.test(text) || Number(text) > 15)
    throw new Refusal('BAD_CARD_TYPE', 'card_type is not two digits 00–15');
  return text;
}

function studentNoOf(bytes: Buffer): string {
  const text = asciiOf(bytes, 'BAD_STUDENT_NO', 'student_no', 32).trim();
  if (!text) throw new Refusal('BAD_STUDENT_NO', 'student_no is empty');
  return text;
}

function nameOf(bytes: Buffer, encodeType: string): string {
  const encoding = ENCODINGS[encodeType.trim().toUpperCase()];
  if (!encoding) throw new Refusal('UNKNOWN_ENCODE_TYPE', `data_encode_type ${encodeType} is not known`);
  const name = iconv.decode(bytes, encoding).trim();
  // iconv-lite never throws on bad input; it puts U+FFFD where bytes do not decode.
  if (!name || name.includes('\uFFFD') || name.length > 64)
    throw new Refusal('BAD_STUDENT_NAME', `student_name does not decode as ${encodeType}`);
  return name;
}

function generatedAtOf(inUseTime: number | Uint8Array): Date {
  let ms: number;
  try {
    ms = typeof inUseTime === 'number' ? inUseTime : readInUseTime(inUseTime);
  } catch {
    throw new Refusal('BAD_IN_USE_TIME', 'in_use_time is not 8 bytes');
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Refusal('BAD_IN_USE_TIME', 'in_use_time is not a time');
  return new Date(ms);
}

function templateIdOf(templateId: number | Uint8Array): number {
  try {
    return typeof templateId === 'number' ? templateId : readTemplateId(templateId);
  } catch {
    throw new Refusal('UNKNOWN_TEMPLATE', 'data_formwork_id is not 4 bytes');
  }
}

export function parseCampusCode(input: CampusCodeInput): CampusCodeParse {
  try {
    const templateId = templateIdOf(input.templateId);
    const layout = Object.hasOwn(CAMPUS_CODE_LAYOUTS, templateId) ? CAMPUS_CODE_LAYOUTS[templateId] : null;
    if (!layout)
      throw new Refusal('UNKNOWN_TEMPLATE', `data_formwork_id ${templateId} is not a known template`);
    const fields = readVars(Buffer.from(input.userData), layout.length, layout);
    const raw = new Map(layout.map((field, i) => [field, fields[i] ?? Buffer.alloc(0)]));
    const identify = raw.get('identifyId');
    const user: CampusCodeUser = {
      templateId,
      schoolNo: schoolNoOf(raw.get('schoolNo')!),
      identifyId: identify ? asciiOf(identify, 'BAD_IDENTIFY_ID', 'identify_id', 64) : null,
      cardType: cardTypeOf(raw.get('cardType')!),
      studentNo: studentNoOf(raw.get('studentNo')!),
      studentName: nameOf(raw.get('studentName')!, input.encodeType),
      generatedAt: generatedAtOf(input.inUseTime),
    };
    return { ok: true, user };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.reason, detail: error.message };
    throw error;
  }
}
