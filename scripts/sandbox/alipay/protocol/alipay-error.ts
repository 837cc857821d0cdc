/** Alipay's public result codes and their fixed `msg` texts (ALIPAY.md §2.3). */
export const MSG_OF_CODE: Readonly<Record<string, string>> = {
  '10000': 'Success',
  // The leading space is real (ALIPAY.md §2.3, [S15]).
  '10003': ' order success pay inprocess',
  '20000': 'Service Currently Unavailable',
  '20001': 'Insufficient Token Permissions',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40003': 'Insufficient Conditions',
  '40004': 'Business Failed',
  '40005': 'Call Limited',
  '40006': 'Insufficient Permissions',
};

export function msgOfCode(code: string): string {
  return MSG_OF_CODE[code] ?? 'Business Failed';
}

/** Picks the public code a sub_code belongs to, for faults given only a sub_code (ALIPAY.md §2.3 table). */
export function codeOfSubCode(subCode: string): string {
  if (subCode === 'isp.unknow-error' || subCode === 'aop.unknow-error') return '20000';
  if (subCode.startsWith('aop.')) return '20001';
  if (subCode.startsWith('isv.missing-')) return '40001';
  if (subCode === 'isv.app-call-limited' || subCode === 'isv.method-call-limited') return '40005';
  if (subCode.startsWith('isv.insufficient-') || subCode === 'isv.self-invoke-forbidden') return '40006';
  if (subCode.startsWith('isv.')) return '40002';
  return '40004';
}

/**
 * A failed call as Alipay answers it: `code`/`msg`/`sub_code`/`sub_msg` plus any extra fields that the real
 * gateway keeps on that failure (e.g. zero amounts on ACQ.TRADE_NOT_EXIST, ALIPAY.md §4.5).
 */
export class AlipayError extends Error {
  override name = 'AlipayError';
  readonly msg: string;

  constructor(
    readonly code: string,
    readonly subCode: string,
    readonly subMsg: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    msg?: string,
  ) {
    super(`${code} ${subCode}: ${subMsg}`);
    this.msg = msg ?? msgOfCode(code);
  }

  toBody(): Record<string, unknown> {
    return { code: this.code, msg: this.msg, sub_code: this.subCode, sub_msg: this.subMsg, ...this.extra };
  }
}

/** 40004 Business Failed with an API-specific sub_code. */
export function businessError(subCode: string, subMsg: string, extra?: Record<string, unknown>): AlipayError {
  return new AlipayError('40004', subCode, subMsg, extra);
}

export function invalidParameter(detail: string): AlipayError {
  return businessError('ACQ.INVALID_PARAMETER', `参数无效: ${detail}`);
}
