/**
 * Mainland mobile numbers: 11 digits starting with 1. Alipay and roster files may write them with +86,
 * spaces or dashes; matching and hashing always use the bare 11 digits.
 */
export function normaliseMobile(value: string): string | null {
  let digits = value.replace(/[\s-]/g, '');
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (/^86\d{11}$/.test(digits)) digits = digits.slice(2);
  return /^1\d{10}$/.test(digits) ? digits : null;
}

export function isValidMobile(value: string): boolean {
  return normaliseMobile(value) !== null;
}
