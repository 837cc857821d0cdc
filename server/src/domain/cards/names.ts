/**
 * Card holder names are compared the way a person would: ignoring spaces (including the full-width
 * space), the middle dot variants used in minority and foreign names, and letter case.
 */
export function normaliseHolderName(name: string): string {
  return name
    .normalize('NFKC')
    .replace(/[\s\u3000]/g, '')
    .replace(/[·•・.]/g, '·')
    .toLowerCase();
}

export function isSameHolder(a: string, b: string): boolean {
  return normaliseHolderName(a) === normaliseHolderName(b);
}
