/** The pages of app.json and the moves between them, with their query built in one place. */
export const PAGES = {
  index: '/pages/index/index',
  school: '/pages/school/school',
  bind: '/pages/bind/bind',
  card: '/pages/card/card',
  recharge: '/pages/recharge/recharge',
  rechargeResult: '/pages/recharge-result/recharge-result',
  statement: '/pages/statement/statement',
  receipt: '/pages/receipt/receipt',
  withholding: '/pages/withholding/withholding',
  debts: '/pages/debts/debts',
  terminalPay: '/pages/terminal-pay/terminal-pay',
  adminEntry: '/pages/admin-entry/admin-entry',
  adminHome: '/pages/admin-home/admin-home',
  adminSettings: '/pages/admin-settings/admin-settings',
  adminAdmins: '/pages/admin-admins/admin-admins',
  adminAudit: '/pages/admin-audit/admin-audit',
  adminCampusCode: '/pages/admin-campus-code/admin-campus-code',
  adminDashboard: '/pages/admin-dashboard/admin-dashboard',
  adminInbox: '/pages/admin-inbox/admin-inbox',
  adminOrders: '/pages/admin-orders/admin-orders',
  adminOrder: '/pages/admin-order/admin-order',
  adminRoster: '/pages/admin-roster/admin-roster',
  adminReconciliation: '/pages/admin-reconciliation/admin-reconciliation',
  adminReconciliationDay: '/pages/admin-reconciliation-day/admin-reconciliation-day',
  adminTerminals: '/pages/admin-terminals/admin-terminals',
  adminTerminal: '/pages/admin-terminal/admin-terminal',
  adminTerminalOrders: '/pages/admin-terminal-orders/admin-terminal-orders',
} as const;

export type PageName = keyof typeof PAGES;
type PageQuery = Record<string, string | undefined>;

export function pageUrl(page: PageName, query: PageQuery = {}): string {
  const pairs = Object.keys(query)
    .filter((key) => query[key] !== undefined && query[key] !== '')
    .map((key) => `${key}=${encodeURIComponent(String(query[key]))}`);
  return pairs.length ? `${PAGES[page]}?${pairs.join('&')}` : PAGES[page];
}

/** Opens a page on top of this one (back returns here). */
export function openPage(page: PageName, query?: PageQuery): void {
  my.navigateTo({ url: pageUrl(page, query) });
}

/** Replaces this page (back skips it), e.g. a finished form. */
export function replacePage(page: PageName, query?: PageQuery): void {
  my.redirectTo({ url: pageUrl(page, query) });
}

/** Starts over from one page, e.g. after unbinding the card that every page below was about. */
export function restartAt(page: PageName, query?: PageQuery): void {
  my.reLaunch({ url: pageUrl(page, query) });
}

export function goBack(): void {
  my.navigateBack();
}
