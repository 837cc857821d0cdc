import { randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import type { SandboxContext } from '../context.js';
import type { CampusCode, User } from '../state/types.js';

/**
 * Alipay's side of the campus code (校园码, seed 001): what the student's phone shows and what a device's
 * decoding SDK gets out of it. This is the sandbox's OWN encoder, written from seed 001 and our reading of
 * its lost layout tables (docs/campus-code.md): the platform's parser (shared/campus-code.ts) is never
 * used here, so a property test can hold the two against each other.
 *
 *   data_formwork_id  4 bytes, big-endian int (4 or 5)
 *   userData          Vars fields, each one unsigned length byte + that many bytes:
 *                     4: school_no, identify_id, card_type, card_status, student_no, student_name, extinfos
 *                     5: school_no,              card_type, card_status, student_no, student_name, extinfos
 *                     school_no = 8 bytes, the 10-digit national code as a big-endian long;
 *                     card_type = two ASCII digits "00"–"15"; card_status = "0" (reserved);
 *                     student_name in data_encode_type (GB2312 unless asked otherwise); extinfos empty
 *   in_use_time       8 bytes, big-endian ms: when the code was made
 *   final_data        the SDK's processed code: what the device sends on, and what trade.pay takes as
 *                     auth_code (base64 on the wire)
 */

export type CampusCodeTemplate = 4 | 5;
export type CampusCodeEncoding = 'GB2312' | 'UTF-8';

export interface CampusCodeIdentity {
  schoolCode: string;
  studentNo: string;
  studentName: string;
  identifyId?: string;
  /** 0–15; default 0. */
  cardType?: number;
}

export interface EncodedCampusCode {
  templateId: CampusCodeTemplate;
  templateIdBytes: Buffer;
  userData: Buffer;
  encodeType: CampusCodeEncoding;
  inUseTime: number;
  inUseTimeBytes: Buffer;
}

const FINAL_DATA_BYTES = 256;
const FINAL_DATA_MAGIC = Buffer.from('ALCC', 'latin1');

const ICONV_NAMES: Record<CampusCodeEncoding, string> = { GB2312: 'gb2312', 'UTF-8': 'utf8' };

/** Whether the name survives the encoding (iconv writes '?' for what GB2312 lacks). */
export function isEncodable(name: string, encodeType: CampusCodeEncoding): boolean {
  const encoding = ICONV_NAMES[encodeType];
  return iconv.decode(iconv.encode(name, encoding), encoding) === name;
}

function vars(bytes: Buffer): Buffer {
  if (bytes.length > 255) throw new RangeError('a Vars field holds at most 255 bytes');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function longBytes(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
}

/** The decoding SDK's outputs for one code, built field by field from the identity. */
export function encodeCampusCode(
  identity: CampusCodeIdentity,
  options: { templateId: CampusCodeTemplate; encodeType: CampusCodeEncoding; inUseTime: number },
): EncodedCampusCode {
  const ascii = (text: string) => Buffer.from(text, 'latin1');
  const name = iconv.encode(identity.studentName, ICONV_NAMES[options.encodeType]);
  const fields = [
    vars(longBytes(BigInt(identity.schoolCode))),
    ...(options.templateId === 4 ? [vars(ascii(identity.identifyId ?? ''))] : []),
    vars(ascii(String(identity.cardType ?? 0).padStart(2, '0'))),
    vars(ascii('0')),
    vars(ascii(identity.studentNo)),
    vars(name),
    vars(Buffer.alloc(0)),
  ];
  const templateIdBytes = Buffer.alloc(4);
  templateIdBytes.writeUInt32BE(options.templateId);
  const inUseTimeBytes = Buffer.alloc(8);
  inUseTimeBytes.writeBigUInt64BE(BigInt(options.inUseTime));
  return {
    templateId: options.templateId,
    templateIdBytes,
    userData: Buffer.concat(fields),
    encodeType: options.encodeType,
    inUseTime: options.inUseTime,
    inUseTimeBytes,
  };
}

const MADE_AT_LIMIT_MS = 30 * 24 * 3_600_000;

/** A code made up to 30 days before `now` (to act out late uploads), never after it. */
export function isPlausibleMadeAt(now: Date, madeAt: Date): boolean {
  const ageMs = now.getTime() - madeAt.getTime();
  return ageMs >= 0 && ageMs <= MADE_AT_LIMIT_MS;
}

/** A code the user shows: Alipay remembers whose it is, for trade.pay to charge. */
export function issueCampusCode(
  ctx: SandboxContext,
  user: User,
  identity: CampusCodeIdentity,
  options: { templateId: CampusCodeTemplate; encodeType: CampusCodeEncoding; madeAt?: Date },
): { code: CampusCode; encoded: EncodedCampusCode } {
  const generatedAt = options.madeAt ?? ctx.clock.now();
  const encoded = encodeCampusCode(identity, { ...options, inUseTime: generatedAt.getTime() });
  let finalData: string;
  do {
    finalData = Buffer.concat([
      FINAL_DATA_MAGIC,
      randomBytes(FINAL_DATA_BYTES - FINAL_DATA_MAGIC.length),
    ]).toString('base64');
  } while (ctx.state.campusCodes.has(finalData));
  const code: CampusCode = {
    finalData,
    userId: user.userId,
    schoolCode: identity.schoolCode,
    generatedAt,
    expiresAt: new Date(generatedAt.getTime() + ctx.settings.campusCodePayableMs),
  };
  ctx.state.campusCodes.set(finalData, code);
  return { code, encoded };
}
