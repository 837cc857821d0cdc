import { idNumberCheckChar } from '../../shared/id-number.js';

let sequence = 0;

/**
 * A made-up resident ID number with a valid GB 11643 check character: region 110101, the given birth date
 * (yyyyMMdd), a sequence number that differs on every call.
 */
export function testIdNumber(birth = '20000101'): string {
  sequence = (sequence + 1) % 1000;
  const first17 = `110101${birth}${String(sequence).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}

let phoneSequence = 0;

/** A made-up mainland mobile number, different on every call. */
export function testMobile(): string {
  phoneSequence += 1;
  return `139${String(process.pid % 10_000).padStart(4, '0')}${String(phoneSequence % 10_000).padStart(4, '0')}`;
}
