import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { RosterRowError } from '../../../../shared/admin-api.js';
import { isValidIdNumber, normaliseIdNumber } from '../../../../shared/id-number.js';
import { normaliseMobile } from '../../../../shared/phone.js';
import { DomainError } from '../errors.js';
import type { RosterEntryInput } from './roster-entries.js';

/**
 * Reading a school's roster file (issue 13; seed 000 §2.1: name, ID number, school, whether a student; we
 * also take the card and student numbers and phones). CSV (UTF-8, or GB18030 as Excel writes it in China)
 * or XLSX (the first sheet); the first line names the columns, in Chinese or English (HEADERS). Every row
 * is checked on its own and a refused row becomes a line of the report (row number, field, reason); it
 * never stops the others. What makes the whole file unusable — not CSV/XLSX, an unknown column, no card
 * number or name column — is ROSTER_FILE_INVALID.
 */

export type RosterField = keyof typeof HEADERS;

/** Accepted header names per field, compared without case, spaces, underscores, dashes or a `*`. */
const HEADERS = {
  name: ['姓名', '学生姓名', 'name', 'fullname'],
  studentNo: ['学号', '学工号', 'studentno', 'studentnumber'],
  cardNo: ['卡号', '一卡通号', '校园卡号', '一卡通卡号', 'cardno', 'cardnumber'],
  idNumber: ['身份证号', '身份证号码', '身份证', '证件号码', 'idnumber', 'idno', 'idcard', 'idcardnumber'],
  phone: ['手机号', '手机号码', '手机', '联系电话', '电话', 'phone', 'mobile', 'phonenumber'],
  guardianPhone: [
    '监护人手机',
    '监护人手机号',
    '监护人电话',
    '家长手机',
    '家长手机号',
    '家长电话',
    'guardianphone',
    'guardianmobile',
    'parentphone',
  ],
  isStudent: ['是否学生', '是否为学生', '学生', 'isstudent', 'student'],
} as const;

const FIELD_BY_HEADER = new Map<string, RosterField>(
  Object.entries(HEADERS).flatMap(([field, names]) => names.map((n) => [n, field as RosterField])),
);

function headerKey(header: string): string {
  return header
    .replace(/^\uFEFF/, '')
    .replace(/[\s_\-*（）()]/g, '')
    .replace(/可选|选填|optional/gi, '')
    .toLowerCase();
}

export type RosterFormat = 'CSV' | 'XLSX';

export function formatOf(fileName: string, bytes: Buffer): RosterFormat {
  // XLSX is a zip: PK\x03\x04. Anything else is read as text.
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x504b0304) return 'XLSX';
  if (/\.xls$/i.test(fileName))
    throw new DomainError('ROSTER_FILE_INVALID', 'old .xls files are not read: save it as .xlsx or .csv', {
      field: 'file',
    });
  return 'CSV';
}

function decodeText(bytes: Buffer): string {
  const utf8 = bytes.toString('utf8');
  // Excel in China saves CSV as GB18030 unless told otherwise; invalid UTF-8 shows up as U+FFFD.
  if (!utf8.includes('\uFFFD')) return utf8;
  return new TextDecoder('gb18030').decode(bytes);
}

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((r) => r.text).join('');
    if ('text' in value) return String(value.text);
    if ('result' in value) return value.result === undefined ? '' : String(value.result);
    if (value instanceof Date) return value.toISOString().slice(0, 10);
  }
  // Long numbers typed into Excel (ID numbers, phones) become numbers; print them without exponents.
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  return String(value);
}

/** The file's lines as text cells, the header first. */
export async function readRosterTable(fileName: string, bytes: Buffer): Promise<string[][]> {
  const format = formatOf(fileName, bytes);
  try {
    if (format === 'CSV') {
      return parseCsv(decodeText(bytes), {
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        trim: true,
      }) as string[][];
    }
    const lines: string[][] = [];
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(bytes), {
      sharedStrings: 'cache',
      worksheets: 'emit',
      hyperlinks: 'ignore',
      styles: 'ignore',
    });
    for await (const sheet of reader) {
      for await (const row of sheet) {
        const values = (row as ExcelJS.Row).values as ExcelJS.CellValue[];
        // ExcelJS rows are 1-based: values[0] is empty.
        lines.push(values.slice(1).map((v) => cellText(v).trim()));
      }
      break; // the first sheet only
    }
    return lines.filter((line) => line.some((cell) => cell !== ''));
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError(
      'ROSTER_FILE_INVALID',
      `cannot read the ${format} file: ${(error as Error).message}`,
      {
        field: 'file',
      },
    );
  }
}

export interface RosterColumns {
  /** Column index of each field present. */
  index: Partial<Record<RosterField, number>>;
}

/** The header line → which column holds what; unknown or repeated columns refuse the file. */
export function rosterColumns(header: string[]): RosterColumns {
  const index: Partial<Record<RosterField, number>> = {};
  const problems: string[] = [];
  header.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const field = FIELD_BY_HEADER.get(headerKey(raw));
    if (!field) problems.push(`unknown column "${raw}"`);
    else if (index[field] !== undefined) problems.push(`column "${raw}" repeats ${field}`);
    else index[field] = i;
  });
  if (index.cardNo === undefined) problems.push('no card number column (卡号 / cardNo)');
  if (index.name === undefined) problems.push('no name column (姓名 / name)');
  if (problems.length > 0) {
    throw new DomainError('ROSTER_FILE_INVALID', problems.join('; '), {
      field: 'file',
      details: problems.map((reason) => ({ row: 1, field: 'header', reason })),
    });
  }
  return { index };
}

const CARD_NO = /^[A-Za-z0-9]{4,32}$/;
const STUDENT_NO = /^[A-Za-z0-9_-]{1,32}$/;
const YES = new Set(['是', 'y', 'yes', 'true', '1', '学生']);
const NO = new Set(['否', 'n', 'no', 'false', '0', '教职工', '非学生']);

export interface CheckedRow {
  row: number;
  entry: RosterEntryInput | null;
  errors: RosterRowError[];
}

/**
 * One data line (`row` is its 1-based line number in the file) → a roster entry, or the reasons it was
 * refused. Duplicates inside the file are the caller's (it sees every row).
 */
export function checkRosterRow(columns: RosterColumns, cells: string[], row: number): CheckedRow {
  const get = (field: RosterField) => {
    const i = columns.index[field];
    return i === undefined ? '' : (cells[i] ?? '').trim();
  };
  const errors: RosterRowError[] = [];
  const fail = (field: RosterField, reason: string) => errors.push({ row, field, reason });

  const name = get('name');
  if (!name) fail('name', 'missing');
  else if ([...name].length > 40) fail('name', 'longer than 40 characters');
  const cardNo = get('cardNo');
  if (!cardNo) fail('cardNo', 'missing');
  else if (!CARD_NO.test(cardNo)) fail('cardNo', 'must be 4–32 letters or digits');
  const studentNo = get('studentNo');
  if (studentNo && !STUDENT_NO.test(studentNo)) fail('studentNo', 'must be 1–32 letters, digits, - or _');
  const idRaw = get('idNumber');
  const idNumber = idRaw ? normaliseIdNumber(idRaw) : '';
  if (idNumber && !isValidIdNumber(idNumber))
    fail('idNumber', 'not a valid ID number (18 characters, GB 11643 check digit)');
  const phoneRaw = get('phone');
  const phone = phoneRaw ? normaliseMobile(phoneRaw) : null;
  if (phoneRaw && !phone) fail('phone', 'not an 11-digit mobile number');
  const guardianRaw = get('guardianPhone');
  const guardianPhone = guardianRaw ? normaliseMobile(guardianRaw) : null;
  if (guardianRaw && !guardianPhone) fail('guardianPhone', 'not an 11-digit mobile number');
  const studentRaw = get('isStudent').toLowerCase();
  let isStudent = true;
  if (studentRaw) {
    if (YES.has(studentRaw)) isStudent = true;
    else if (NO.has(studentRaw)) isStudent = false;
    else fail('isStudent', 'must be 是 or 否 (yes / no)');
  }
  if (errors.length > 0) return { row, entry: null, errors };
  return {
    row,
    entry: {
      cardNo,
      name,
      studentNo: studentNo || null,
      idNumber: idNumber || null,
      phone,
      guardianPhone,
      isStudent,
    },
    errors,
  };
}
