import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import {
  encodeCampusCode,
  type CampusCodeIdentity,
} from '../../scripts/sandbox/alipay/domain/campus-codes.js';
import { parseCampusCode, readInUseTime, readTemplateId } from '../../shared/campus-code.js';

/** A Vars field: one unsigned length byte, then the bytes. */
function vars(bytes: Buffer | string): Buffer {
  const body = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return Buffer.concat([Buffer.from([body.length]), body]);
}

function long(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
}

const MADE_AT = Date.UTC(2026, 8, 1, 4, 30);
const GB_NAME = iconv.encode('王小明', 'gb2312');

/** Template 4's fields, written by hand in the order of our reading (docs/campus-code.md). */
function template4(overrides: Partial<Record<string, Buffer>> = {}): Buffer {
  const fields: Record<string, Buffer> = {
    schoolNo: vars(long(4132010001n)),
    identifyId: vars('E20260003'),
    cardType: vars('01'),
    cardStatus: vars('0'),
    studentNo: vars('20260003'),
    studentName: vars(GB_NAME),
    extInfos: vars(''),
    ...overrides,
  };
  return Buffer.concat(Object.values(fields));
}

const parse4 = (userData: Buffer, encodeType = 'GB2312') =>
  parseCampusCode({ templateId: 4, userData, encodeType, inUseTime: MADE_AT });

function refusal(result: ReturnType<typeof parseCampusCode>): string {
  assert.equal(result.ok, false, 'expected a refusal');
  return result.ok ? '' : result.reason;
}

describe('campus code parser (seed 001 §2–3, our reading of the lost layout tables)', () => {
  it('reads every field of template 4: school_no as a long, identify_id, card_type, student_no, a GB2312 name, in_use_time', () => {
    const result = parse4(template4());
    assert.deepEqual(result, {
      ok: true,
      user: {
        templateId: 4,
        schoolNo: '4132010001',
        identifyId: 'E20260003',
        cardType: '01',
        studentNo: '20260003',
        studentName: '王小明',
        generatedAt: new Date(MADE_AT),
      },
    });
  });

  it('reads template 5, which has no identify_id', () => {
    const userData = Buffer.concat([
      vars(long(4132010001n)),
      vars('15'),
      vars('9'),
      vars('S-77'),
      vars(GB_NAME),
      vars(''),
    ]);
    const result = parseCampusCode({ templateId: 5, userData, encodeType: 'gb2312', inUseTime: MADE_AT });
    assert.ok(result.ok);
    assert.equal(result.user.identifyId, null);
    assert.deepEqual(
      [result.user.cardType, result.user.studentNo, result.user.studentName],
      ['15', 'S-77', '王小明'],
    );
  });

  it('reads a UTF-8 name when data_encode_type says so', () => {
    const result = parse4(template4({ studentName: vars(Buffer.from('欧阳·娜娜', 'utf8')) }), 'UTF-8');
    assert.ok(result.ok);
    assert.equal(result.user.studentName, '欧阳·娜娜');
  });

  it('takes data_formwork_id and in_use_time as the SDK hands them out: 4 and 8 big-endian bytes', () => {
    const templateId = Buffer.from([0, 0, 0, 4]);
    const inUseTime = Buffer.alloc(8);
    inUseTime.writeBigUInt64BE(BigInt(MADE_AT));
    assert.equal(readTemplateId(templateId), 4);
    assert.equal(readInUseTime(inUseTime), MADE_AT);
    const result = parseCampusCode({ templateId, userData: template4(), encodeType: 'GB2312', inUseTime });
    assert.ok(result.ok);
    assert.equal(result.user.generatedAt.getTime(), MADE_AT);
  });

  it('keeps the leading zero a long drops from a national code', () => {
    const result = parse4(template4({ schoolNo: vars(long(132010001n)) }));
    assert.ok(result.ok);
    assert.equal(result.user.schoolNo, '0132010001');
  });

  it('ignores card_status (reserved) whatever it holds, and a missing trailing extinfos', () => {
    const userData = template4({ cardStatus: vars(Buffer.from([0xff, 0x00, 0x13])) });
    assert.ok(parse4(userData).ok);
    const withoutExtInfos = userData.subarray(0, userData.length - 1);
    assert.ok(parse4(withoutExtInfos).ok);
  });

  describe('bad data is a reason, never a crash', () => {
    it('refuses an unknown template', () => {
      const result = parseCampusCode({
        templateId: 6,
        userData: template4(),
        encodeType: 'GB2312',
        inUseTime: MADE_AT,
      });
      assert.equal(refusal(result), 'UNKNOWN_TEMPLATE');
      assert.equal(
        refusal(
          parseCampusCode({
            templateId: Buffer.from([4]),
            userData: template4(),
            encodeType: 'GB2312',
            inUseTime: MADE_AT,
          }),
        ),
        'UNKNOWN_TEMPLATE',
      );
    });

    it('refuses userData that ends before a field (a truncated Vars)', () => {
      const whole = template4();
      const beforeName = whole.subarray(0, whole.indexOf(GB_NAME) - 1);
      assert.equal(refusal(parse4(beforeName)), 'USER_DATA_TRUNCATED');
      assert.equal(refusal(parse4(Buffer.alloc(0))), 'USER_DATA_TRUNCATED');
    });

    it('refuses a length byte that points past the end', () => {
      const whole = template4();
      assert.equal(refusal(parse4(whole.subarray(0, whole.length - 3))), 'USER_DATA_LENGTH_PAST_END');
      assert.equal(refusal(parse4(Buffer.from([200, 1, 2, 3]))), 'USER_DATA_LENGTH_PAST_END');
    });

    it('refuses bytes after the last field (the data does not follow its template)', () => {
      assert.equal(
        refusal(parse4(Buffer.concat([template4(), Buffer.from([1])]))),
        'USER_DATA_TRAILING_BYTES',
      );
    });

    it('refuses a school_no that is not 8 bytes or not a 10-digit code', () => {
      assert.equal(refusal(parse4(template4({ schoolNo: vars('4132010001') }))), 'BAD_SCHOOL_NO');
      assert.equal(refusal(parse4(template4({ schoolNo: vars(long(41320100011n)) }))), 'BAD_SCHOOL_NO');
      assert.equal(refusal(parse4(template4({ schoolNo: vars(long(-5n)) }))), 'BAD_SCHOOL_NO');
    });

    it('refuses a card_type outside 00–15, and an empty or binary student_no', () => {
      assert.equal(refusal(parse4(template4({ cardType: vars('16') }))), 'BAD_CARD_TYPE');
      assert.equal(refusal(parse4(template4({ cardType: vars(Buffer.from([1])) }))), 'BAD_CARD_TYPE');
      assert.equal(refusal(parse4(template4({ studentNo: vars('') }))), 'BAD_STUDENT_NO');
      assert.equal(refusal(parse4(template4({ studentNo: vars(GB_NAME) }))), 'BAD_STUDENT_NO');
      assert.equal(refusal(parse4(template4({ identifyId: vars(Buffer.from([0, 1])) }))), 'BAD_IDENTIFY_ID');
    });

    it('refuses name bytes that do not decode, an empty name, and an unknown encoding', () => {
      assert.equal(
        refusal(parse4(template4({ studentName: vars(Buffer.from([0xb0])) }))),
        'BAD_STUDENT_NAME',
      );
      assert.equal(
        refusal(parse4(template4({ studentName: vars(Buffer.from([0xe4, 0xb8])) }), 'UTF-8')),
        'BAD_STUDENT_NAME',
      );
      assert.equal(refusal(parse4(template4({ studentName: vars('') }))), 'BAD_STUDENT_NAME');
      assert.equal(refusal(parse4(template4(), 'BIG5')), 'UNKNOWN_ENCODE_TYPE');
    });

    it('refuses an in_use_time that is not 8 bytes or not a time', () => {
      const at = (inUseTime: number | Buffer) =>
        parseCampusCode({ templateId: 4, userData: template4(), encodeType: 'GB2312', inUseTime });
      assert.equal(refusal(at(Buffer.alloc(4))), 'BAD_IN_USE_TIME');
      assert.equal(refusal(at(Buffer.alloc(8, 0xff))), 'BAD_IN_USE_TIME');
      assert.equal(refusal(at(0)), 'BAD_IN_USE_TIME');
    });

    it('never throws, whatever the bytes', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 7 }),
          fc.uint8Array({ maxLength: 300 }),
          fc.constantFrom('GB2312', 'UTF-8', 'x'),
          (templateId, userData, encodeType) => {
            const result = parseCampusCode({ templateId, userData, encodeType, inUseTime: MADE_AT });
            assert.equal(typeof result.ok, 'boolean');
          },
        ),
        { numRuns: 2_000 },
      );
    });
  });

  describe('agrees with the Alipay sandbox’s own encoder', () => {
    // GB2312 level-1 hanzi: lead byte 0xB0–0xD7, trail 0xA1–0xFE (0xD7FA–0xD7FE are unassigned).
    const hanzi = fc
      .tuple(fc.integer({ min: 0xb0, max: 0xd7 }), fc.integer({ min: 0xa1, max: 0xfe }))
      .filter(([lead, trail]) => lead < 0xd7 || trail <= 0xf9)
      .map(([lead, trail]) => iconv.decode(Buffer.from([lead, trail]), 'gb2312'));
    const printable = fc.string({
      unit: fc.constantFrom(...'0123456789ABCDEFXYZ-_'.split('')),
      minLength: 1,
      maxLength: 20,
    });
    const identity = fc.record<CampusCodeIdentity>({
      schoolCode: fc.bigInt({ min: 0n, max: 9_999_999_999n }).map((n) => n.toString().padStart(10, '0')),
      studentNo: printable,
      studentName: fc.array(hanzi, { minLength: 1, maxLength: 6 }).map((chars) => chars.join('')),
      identifyId: printable,
      cardType: fc.integer({ min: 0, max: 15 }),
    });

    it('reads back every user the sandbox encodes, in both templates and both encodings', () => {
      fc.assert(
        fc.property(
          identity,
          fc.constantFrom(4 as const, 5 as const),
          fc.constantFrom('GB2312' as const, 'UTF-8' as const),
          fc.integer({ min: 1, max: 4_102_444_800_000 }),
          (user, templateId, encodeType, inUseTime) => {
            const code = encodeCampusCode(user, { templateId, encodeType, inUseTime });
            const parsed = parseCampusCode({
              templateId: code.templateIdBytes,
              userData: code.userData,
              encodeType: code.encodeType,
              inUseTime: code.inUseTimeBytes,
            });
            assert.deepEqual(parsed, {
              ok: true,
              user: {
                templateId,
                schoolNo: user.schoolCode,
                identifyId: templateId === 4 ? user.identifyId : null,
                cardType: String(user.cardType).padStart(2, '0'),
                studentNo: user.studentNo,
                studentName: user.studentName,
                generatedAt: new Date(inUseTime),
              },
            });
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});
