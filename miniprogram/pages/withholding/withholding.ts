/**
 * Password-free withholding (小额免密代扣): what it is and its limits, which of the person's cards it pays (a
 * parent: several children, each with their own limits), signing through my.paySignCenter, changing the
 * cards, ending it. After signing, the page asks the server until the agreement is ACTIVE — Alipay's
 * notification to the server is the truth, not the client's resultStatus (ALIPAY.md §4.10).
 */
import type { WithholdingResponse } from '../../shared/api';
import { api, findSchool } from '../../services/api';
import { codeOf, messageOf } from '../../services/api-error';
import { JsapiFailure, confirm, paySignCenter, toast } from '../../services/jsapi';
import { openPage } from '../../services/navigation';
import { askToSubscribe } from '../../services/subscriptions';
import { SIGNING_UNAVAILABLE, paySignVerdict, type ClientVerdict } from '../../services/payment-results';
import { pollUntil } from '../../services/poll';
import { datasetValue, type TapEvent } from '../../services/events';
import { withholdingFor } from '../../view-models/cards';
import {
  cardChoices,
  chosenCards,
  toWithholdingPage,
  type CardChoice,
  type WithholdingPage,
} from '../../view-models/withholding';

const CONFIRM_INTERVAL_MS = 1000;
const CONFIRM_TIMEOUT_MS = 20 * 1000;

Page({
  data: {
    loading: true,
    errorMessage: '',
    bindingId: '',
    view: null as WithholdingPage | null,
    signing: false,
    confirming: false,
    unsigning: false,
    saving: false,
    notice: '',
    showRepayLink: false,
  },

  isUnloaded: false,

  onLoad(query: { bindingId?: string }): void {
    this.setData({ bindingId: query.bindingId ?? '' });
  },

  // Also after coming back from the debts page, where repaying may have made signing possible.
  onShow(): Promise<void> {
    return this.load();
  },

  onUnload(): void {
    this.isUnloaded = true;
  },

  async load(): Promise<void> {
    this.setData({ loading: !this.data.view, errorMessage: '' });
    try {
      const [detail, withholding, bindings] = await Promise.all([
        api.binding(this.data.bindingId),
        api.withholding(),
        api.bindings(),
      ]);
      const school = await findSchool(detail.school);
      const item = withholdingFor(withholding.items, detail.school.id);
      const choices = cardChoices(bindings.items, detail.school.id, item, this.data.bindingId);
      this.setData({ loading: false, view: toWithholdingPage(detail, item, school, choices) });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  updateChoice(bindingId: string, change: Partial<CardChoice>): void {
    if (!this.data.view) return;
    const choices = this.data.view.choices.map((choice) =>
      choice.bindingId === bindingId ? { ...choice, ...change, error: '' } : choice,
    );
    this.setData({ view: { ...this.data.view, choices }, notice: '' });
  },

  onToggleCard(event: TapEvent): void {
    const bindingId = datasetValue(event, 'id');
    const choice = this.data.view?.choices.find((c) => c.bindingId === bindingId);
    if (choice) this.updateChoice(bindingId, { checked: !choice.checked });
  },

  onTxnLimitInput(value: string, event: TapEvent): void {
    this.updateChoice(datasetValue(event, 'id'), { txnLimitYuan: value });
  },

  onDailyLimitInput(value: string, event: TapEvent): void {
    this.updateChoice(datasetValue(event, 'id'), { dailyLimitYuan: value });
  },

  /** The checked cards with their limits, or null after showing what is wrong. */
  checkedCards() {
    const view = this.data.view!;
    const chosen = chosenCards(view.choices, view.limits);
    this.setData({ view: { ...view, choices: chosen.choices }, notice: chosen.error });
    return chosen.error || chosen.cards.length === 0 ? null : chosen.cards;
  },

  async onSaveCards(): Promise<void> {
    if (this.data.saving || !this.data.view) return;
    const cards = this.checkedCards();
    if (!cards) return;
    this.setData({ saving: true });
    try {
      await api.changeWithholdingCards({ schoolId: this.data.view.schoolId, cards });
      toast('已保存', 'success');
      await this.load();
    } catch (error) {
      this.setData({ notice: messageOf(error) });
    } finally {
      this.setData({ saving: false });
    }
  },

  async onSign(): Promise<void> {
    if (this.data.signing || !this.data.view) return;
    const schoolId = this.data.view.schoolId;
    const cards = this.checkedCards();
    if (!cards) return;
    this.setData({ signing: true, notice: '', showRepayLink: false });
    try {
      // A failed collection and arrears are worth a message: asked before Alipay's signing page opens.
      await askToSubscribe(['WITHHOLDING_FAILED', 'ARREARS']);
      const sign = await api.signWithholding(cards);
      let verdict: ClientVerdict;
      try {
        verdict = paySignVerdict((await paySignCenter(sign.signStr)).resultStatus);
      } catch (error) {
        if (!(error instanceof JsapiFailure)) throw error;
        verdict = SIGNING_UNAVAILABLE;
      }
      this.setData({ notice: verdict.message });
      if (!verdict.checkServer) {
        toast(verdict.message);
        return;
      }
      await this.confirmSigned(schoolId);
    } catch (error) {
      this.setData({ notice: messageOf(error), showRepayLink: codeOf(error) === 'HAS_ARREARS' });
    } finally {
      this.setData({ signing: false });
    }
  },

  async confirmSigned(schoolId: string): Promise<void> {
    this.setData({ confirming: true });
    const statusOf = (answer: WithholdingResponse) => withholdingFor(answer.items, schoolId)?.status;
    const outcome = await pollUntil(
      () => api.withholding(),
      (answer) => statusOf(answer) === 'ACTIVE' || statusOf(answer) === 'FAILED',
      { intervalMs: CONFIRM_INTERVAL_MS, timeoutMs: CONFIRM_TIMEOUT_MS, isStopped: () => this.isUnloaded },
    );
    if (outcome.stopped) return;
    const status = outcome.value ? statusOf(outcome.value) : undefined;
    if (status === 'ACTIVE') {
      toast('已开通刷卡免密代扣', 'success');
      this.setData({ notice: '' });
    } else if (status === 'FAILED') {
      this.setData({ notice: '签约没有成功，请稍后重试' });
    } else {
      this.setData({ notice: '签约结果还在确认中，请稍后回到本页查看，不必重复签约' });
    }
    this.setData({ confirming: false });
    await this.load();
  },

  async onUnsign(): Promise<void> {
    if (!this.data.view || this.data.unsigning) return;
    const confirmed = await confirm({
      title: '关闭免密代扣',
      content: '关闭后，食堂刷卡将从校园卡余额扣款，不再由支付宝支付。确定关闭吗？',
      confirmButtonText: '确定关闭',
    });
    if (!confirmed) return;
    this.setData({ unsigning: true, notice: '', showRepayLink: false });
    try {
      await api.unsignWithholding(this.data.view.schoolId);
      toast('已关闭刷卡免密代扣', 'success');
      await this.load();
    } catch (error) {
      this.setData({ notice: messageOf(error), showRepayLink: codeOf(error) === 'HAS_ARREARS' });
    } finally {
      this.setData({ unsigning: false });
    }
  },

  onRepay(): void {
    openPage('debts');
  },
});
