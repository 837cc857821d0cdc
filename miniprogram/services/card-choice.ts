/** The card a parent last looked at, so the next launch opens on it rather than on the first card. */
const STORAGE_KEY = 'campus.currentBindingId';

export function rememberCard(bindingId: string): void {
  my.setStorageSync({ key: STORAGE_KEY, data: bindingId });
}

export function rememberedCard(): string | null {
  const stored = my.getStorageSync({ key: STORAGE_KEY }).data;
  return typeof stored === 'string' && stored !== '' ? stored : null;
}

export function forgetCard(): void {
  my.removeStorageSync({ key: STORAGE_KEY });
}
