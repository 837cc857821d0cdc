/**
 * Recharge: a preset or typed amount within the school's range → POST /recharges → Alipay cashier
 * (my.tradePay) → the result page, which asks the server what really happened (DESIGN §7.3).
 */
import { api, findSchool } from '../../services/api';
import { ApiError, messageOf } from '../../services/api-error';
import { datasetValue, type TapEvent } from '../../services/events';
import { JsapiFailure, toast, tradePay } from '../../services/jsapi';
import { askToSubscribe } from '../../services/subscriptions';
import { replacePage } from '../../services/navigation';
import { CASHIER_UNAVAILABLE, tradePayVerdict, type ClientVerdict } from '../../services/payment-results';
import {
  UNKNOWN_LIMITS,
  amountProblem,
  limitsOf,
  limitsText,
  parseAmountInput,
  payButtonText,
  presetButtons,
  type PresetButton,
  type RechargeLimits,
} from '../../view-models/recharge';

Page({
  data: {
    loading: true,
    errorMessage: '',
    bindingId: '',
    schoolName: '',
    cardText: '',
    limits: UNKNOWN_LIMITS as RechargeLimits,
    limitsText: '',
    presets: [] as PresetButton[],
    customYuan: '',
    amountFen: 0,
    amountError: '',
    payText: payButtonText(0),
    payDisabled: true,
    paying: false,
    payMessage: '',
  },

  onLoad(query: { bindingId?: string }): Promise<void> {
    this.setData({ bindingId: query.bindingId ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const detail = await api.binding(this.data.bindingId);
      if (detail.status !== 'ACTIVE') throw new ApiError('BINDING_NOT_ACTIVE');
      const limits = limitsOf(await findSchool(detail.school));
      this.setData({
        loading: false,
        schoolName: detail.school.name,
        cardText: `${detail.holderName} · ${detail.cardNo}`,
        limits,
        limitsText: limitsText(limits),
      });
      this.chooseAmount(0, '', '');
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  chooseAmount(amountFen: number, customYuan: string, amountError: string): void {
    this.setData({
      amountFen,
      customYuan,
      amountError,
      presets: presetButtons(this.data.limits, customYuan ? 0 : amountFen),
      payText: payButtonText(amountError ? 0 : amountFen),
      payDisabled: amountFen <= 0 || !!amountError,
      payMessage: '',
    });
  },

  onPickPreset(event: TapEvent): void {
    const amountFen = Number(datasetValue(event, 'fen'));
    if (!Number.isSafeInteger(amountFen) || amountFen <= 0) return;
    this.chooseAmount(amountFen, '', amountProblem(amountFen, this.data.limits));
  },

  onCustomInput(value: string): void {
    const { amountFen, error } = parseAmountInput(value, this.data.limits);
    this.chooseAmount(amountFen, value, error);
  },

  async onPay(): Promise<void> {
    if (this.data.paying || this.data.payDisabled) return;
    this.setData({ paying: true, payMessage: '' });
    try {
      const order = await api.createRecharge(this.data.bindingId, this.data.amountFen);
      let verdict: ClientVerdict;
      try {
        // "Tell me when it is on the card": one message per consent, asked before the cashier opens.
        await askToSubscribe(['RECHARGE_CREDITED']);
        verdict = tradePayVerdict(await tradePay(order.tradeNo));
      } catch (error) {
        if (!(error instanceof JsapiFailure)) throw error;
        verdict = CASHIER_UNAVAILABLE;
      }
      if (verdict.checkServer) {
        replacePage('rechargeResult', { orderId: order.orderId });
        return;
      }
      this.setData({ payMessage: verdict.message });
      toast(verdict.message);
    } catch (error) {
      this.setData({ payMessage: messageOf(error) });
    } finally {
      this.setData({ paying: false });
    }
  },
});
