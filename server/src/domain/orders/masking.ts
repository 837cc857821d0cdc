/**
 * Viewers see orders with card numbers and names masked (issue 13): enough to tell rows apart and to match a
 * student's own report ("…1234, 张*"), not enough to look a student up elsewhere.
 */
export function maskCardNo(cardNo: string): string {
  return cardNo.length > 4 ? `${'*'.repeat(cardNo.length - 4)}${cardNo.slice(-4)}` : '****';
}

export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

export interface Masking {
  card(cardNo: string): string;
  name(name: string): string;
}

export function maskingFor(role: 'OWNER' | 'STAFF' | 'VIEWER'): Masking {
  return role === 'VIEWER' ? { card: maskCardNo, name: maskName } : { card: (c) => c, name: (n) => n };
}
