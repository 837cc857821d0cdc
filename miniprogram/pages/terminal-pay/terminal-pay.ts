/**
 * The payment page a vending machine's or window's QR opens (issue #15, seed 002 §1): the silent auth_base
 * login of services/api, the order's lines and amount, → POST /terminal-orders/:orderNo/pay → my.tradePay;
 * then the server is asked until the order is settled (Alipay's notification decides, not the cashier).
 */
import type { TerminalOrderPageView } from '../../shared/api';
import { formatFen } from '../../shared/format';
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { JsapiFailure, stopPullDownRefresh, toast, tradePay } from '../../services/jsapi';
import { CASHIER_UNAVAILABLE, tradePayVerdict, type ClientVerdict } from '../../services/payment-results';
import { pollUntil } from '../../services/poll';
import { isSettled, orderLines, placeText, stateText, type OrderLine } from '../../view-models/terminal-pay';

const POLL = { intervalMs: 1_000, timeoutMs: 20_000 };

Page({
  data: {
    loading: true,
    errorMessage: '',
    orderNo: '',
    placeText: '',
    lines: [] as OrderLine[],
    amountText: '',
    stateText: '',
    payable: false,
    paying: false,
    payMessage: '',
  },
  closed: false,

  onLoad(query: { orderNo?: string }): Promise<void> {
    this.setData({ orderNo: query.orderNo ?? '' });
    return this.load();
  },

  onUnload(): void {
    this.closed = true;
  },

  show(order: TerminalOrderPageView): void {
    const state = stateText(order);
    this.setData({
      placeText: placeText(order),
      lines: orderLines(order),
      amountText: formatFen(order.amountFen),
      stateText: state.text,
      payable: state.payable,
    });
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      this.show(await api.terminalOrder(this.data.orderNo));
      this.setData({ loading: false });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  async onPay(): Promise<void> {
    if (this.data.paying || !this.data.payable) return;
    this.setData({ paying: true, payMessage: '' });
    try {
      const { tradeNo } = await api.payTerminalOrder(this.data.orderNo);
      let verdict: ClientVerdict;
      try {
        verdict = tradePayVerdict(await tradePay(tradeNo));
      } catch (error) {
        if (!(error instanceof JsapiFailure)) throw error;
        verdict = CASHIER_UNAVAILABLE;
      }
      this.setData({ payMessage: verdict.message });
      if (!verdict.checkServer) {
        toast(verdict.message);
        return;
      }
      const result = await pollUntil(
        () => api.terminalOrder(this.data.orderNo),
        isSettled,
        { ...POLL, isStopped: () => this.closed },
        (order) => this.show(order),
      );
      if (result.done) this.setData({ payMessage: '' });
      else if (!result.stopped) this.setData({ payMessage: '正在确认支付结果，请稍后下拉刷新' });
    } catch (error) {
      this.setData({ payMessage: messageOf(error) });
    } finally {
      this.setData({ paying: false });
    }
  },

  async onPullDownRefresh(): Promise<void> {
    try {
      await this.load();
    } finally {
      stopPullDownRefresh();
    }
  },
});
