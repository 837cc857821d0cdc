/**
 * The payment page a vending machine's or window's QR opens (issue #15, seed 002 §1): the silent auth_base
 * login of services/api, the order's lines and amount, → POST /terminal-orders/:orderNo/pay → my.tradePay;
 * then the server is asked until the order is settled (Alipay's notification decides, not the cashier).
 * Where the school asks payers it does not know for their mobile, the pay call answers PHONE_REQUIRED: the
 * page then offers 授权手机号并支付 (auth_user → POST /me/phone) and pays once the mobile is shared.
 */
import type { TerminalOrderPageView } from '../../shared/api';
import { formatFen } from '../../shared/format';
import { api } from '../../services/api';
import { codeOf, messageOf } from '../../services/api-error';
import { JsapiFailure, askUserAuthCode, stopPullDownRefresh, toast, tradePay } from '../../services/jsapi';
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
    /** The school wants this payer's mobile before the first payment: show 授权手机号并支付. */
    phoneRequired: false,
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
      this.setData({ payMessage: messageOf(error), phoneRequired: codeOf(error) === 'PHONE_REQUIRED' });
    } finally {
      this.setData({ paying: false });
    }
  },

  /** Alipay's consent sheet (auth_user), the shared mobile to the server, then the payment itself. */
  async onSharePhone(): Promise<void> {
    if (this.data.paying) return;
    this.setData({ paying: true, payMessage: '' });
    try {
      const authCode = await askUserAuthCode();
      if (!authCode) {
        this.setData({ payMessage: '没有获得支付宝授权；本校要求授权手机号后才能付款' });
        return;
      }
      await api.sharePhone(authCode);
      this.setData({ phoneRequired: false });
    } catch (error) {
      this.setData({ payMessage: messageOf(error) });
      return;
    } finally {
      this.setData({ paying: false });
    }
    await this.onPay();
  },

  async onPullDownRefresh(): Promise<void> {
    try {
      await this.load();
    } finally {
      stopPullDownRefresh();
    }
  },
});
