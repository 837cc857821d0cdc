/**
 * Tap events carry `data-*` attributes in `currentTarget.dataset`, both from native views and from antd-mini
 * components (which rebuild the dataset from their `data-*` props, keeping the name as written — so the
 * templates use one-word names like `data-id`).
 */
export interface TapEvent {
  currentTarget?: { dataset?: Record<string, unknown> };
}

export function datasetValue(event: TapEvent | undefined, key: string): string {
  const value = event?.currentTarget?.dataset?.[key];
  return value === undefined || value === null ? '' : String(value);
}
