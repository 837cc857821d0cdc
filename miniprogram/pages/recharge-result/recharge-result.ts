/**
 * After the cashier: asks the server every 1.5 s for up to 60 s until the order is settled, and says in
 * Chinese what each state means. The server's state is the truth, not the cashier's result code.
 */
import type { RechargeView } from '../../shared/api';
import { formatBalance } from '../../shared/format';
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { goBack, openPage } from '../../services/navigation';
import { pollUntil } from '../../services/poll';
import { isRechargeSettled, toRechargeResult, type RechargeResult } from '../../view-models/recharge';

const POLL_INTERVAL_MS = 1500;
const POLL_TIMEOUT_MS = 60 * 1000;

Page({
  data: {
    loading: true,
    errorMessage: '',
    orderId: '',
    result: null as RechargeResult | null,
    checking: false,
    stillWaiting: false,
    balanceText: '',
  },

  isUnloaded: false,

  onLoad(query: { orderId?: string }): Promise<void> {
    this.setData({ orderId: query.orderId ?? '' });
    return this.watch();
  },

  onUnload(): void {
    this.isUnloaded = true;
  },

  async watch(): Promise<void> {
    if (this.data.checking) return;
    this.setData({ checking: true, stillWaiting: false, errorMessage: '' });
    const outcome = await pollUntil(
      () => api.recharge(this.data.orderId),
      (order: RechargeView) => isRechargeSettled(order.status),
      { intervalMs: POLL_INTERVAL_MS, timeoutMs: POLL_TIMEOUT_MS, isStopped: () => this.isUnloaded },
      (order) => this.setData({ loading: false, result: toRechargeResult(order) }),
    );
    if (outcome.stopped) return;
    if (!outcome.value) {
      this.setData({ loading: false, checking: false, errorMessage: messageOf(outcome.error) });
      return;
    }
    this.setData({ checking: false, stillWaiting: !outcome.done });
    if (outcome.value.status === 'CREDITED') await this.showBalance(outcome.value.bindingId);
  },

  async showBalance(bindingId: string): Promise<void> {
    try {
      const detail = await api.binding(bindingId);
      this.setData({
        balanceText: detail.balanceUnavailable ? formatBalance(null) : formatBalance(detail.balanceFen),
      });
    } catch {
      this.setData({ balanceText: formatBalance(null) });
    }
  },

  onRefresh(): Promise<void> {
    return this.watch();
  },

  onBackToCard(): void {
    goBack();
  },

  onViewStatement(): void {
    if (this.data.result) openPage('statement', { bindingId: this.data.result.bindingId });
  },
});
