/**
 * Card home: balance and state of one bound card, its actions (recharge, statement, loss, unbind), the
 * withholding state and any arrears; a parent with several cards switches between them here.
 */
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { forgetCard, rememberCard, rememberedCard } from '../../services/card-choice';
import { datasetValue, type TapEvent } from '../../services/events';
import {
  confirm,
  JsapiFailure,
  navigateToMiniProgram,
  stopPullDownRefresh,
  toast,
} from '../../services/jsapi';
import { openPage, restartAt } from '../../services/navigation';
import {
  cardTabs,
  chooseCard,
  toCardHome,
  toDebtsSummary,
  toWithholdingSummary,
  withholdingFor,
  type CardHome,
  type CardTab,
  type DebtsSummary,
  type WithholdingSummary,
} from '../../view-models/cards';

Page({
  data: {
    loading: true,
    errorMessage: '',
    isEmpty: false,
    bindingId: '',
    card: null as CardHome | null,
    tabs: [] as CardTab[],
    hasSeveralCards: false,
    withholding: null as WithholdingSummary | null,
    debts: { hasDebts: false, text: '' } as DebtsSummary,
    busy: false,
  },

  onLoad(query: { bindingId?: string }): void {
    this.setData({ bindingId: query.bindingId ?? '' });
  },

  // Every return (from recharge, withholding, debts) shows fresh balance and state.
  onShow(): Promise<void> {
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: !this.data.card, errorMessage: '' });
    try {
      const me = await api.me();
      const bindingId = chooseCard(me.bindings, this.data.bindingId, rememberedCard());
      if (!bindingId) {
        this.setData({ loading: false, isEmpty: true, card: null, tabs: [], hasSeveralCards: false });
        return;
      }
      const detail = await api.binding(bindingId);
      rememberCard(bindingId);
      const tabs = cardTabs(me.bindings, bindingId);
      this.setData({
        loading: false,
        isEmpty: false,
        bindingId,
        card: toCardHome(detail),
        tabs,
        hasSeveralCards: tabs.length > 1,
        withholding: toWithholdingSummary(withholdingFor(me.withholding, detail.school.id), bindingId),
        debts: toDebtsSummary(me.debts),
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  // Pull down to see a canteen swipe or a recharge that happened while the page was open.
  async onPullDownRefresh(): Promise<void> {
    try {
      await this.load();
    } finally {
      stopPullDownRefresh();
    }
  },

  onSwitchCard(event: TapEvent): Promise<void> {
    const bindingId = datasetValue(event, 'id');
    if (!bindingId || bindingId === this.data.bindingId) return Promise.resolve();
    rememberCard(bindingId);
    this.setData({ bindingId, card: null });
    return this.load();
  },

  onAddCard(): void {
    openPage('school');
  },

  /** School admins enter the admin area from here too (issue 10). */
  onAdminEntry(): void {
    openPage('adminEntry');
  },

  onRecharge(): void {
    openPage('recharge', { bindingId: this.data.bindingId });
  },

  /**
   * The student pays at campus devices with Alipay's own campus code (校园码): its mini-program opens for
   * this card's school (ALIPAY-M2.md §5; docs/campus-code.md says why not a plugin).
   */
  async onCampusCode(): Promise<void> {
    if (this.data.busy) return;
    this.setData({ busy: true });
    try {
      await navigateToMiniProgram(await api.campusCodeEntry(this.data.bindingId));
    } catch (error) {
      toast(error instanceof JsapiFailure ? '暂时打不开支付宝校园码，请稍后再试' : messageOf(error), 'fail');
    } finally {
      this.setData({ busy: false });
    }
  },

  onStatement(): void {
    openPage('statement', { bindingId: this.data.bindingId });
  },

  onWithholding(): void {
    openPage('withholding', { bindingId: this.data.bindingId });
  },

  onDebts(): void {
    openPage('debts');
  },

  async onReportLoss(): Promise<void> {
    const confirmed = await confirm({
      title: '挂失校园卡',
      content: '挂失后这张卡不能再消费，支付宝代扣也会停止。找回卡片后请到学校一卡通中心解挂。确定挂失吗？',
      confirmButtonText: '确定挂失',
    });
    if (!confirmed) return;
    await this.runAction(() => api.reportLoss(this.data.bindingId), '已挂失');
    await this.load();
  },

  async onUnbind(): Promise<void> {
    const confirmed = await confirm({
      title: '解除绑定',
      content: '解绑后将不能在这里为这张卡充值、查账单，已开通的刷卡代扣也会停止。确定解绑吗？',
      confirmButtonText: '确定解绑',
    });
    if (!confirmed) return;
    const bindingId = this.data.bindingId;
    if (!(await this.runAction(() => api.unbind(bindingId), '已解绑'))) return;
    if (rememberedCard() === bindingId) forgetCard();
    // Every page below was about this card: start over, the entry picks the next card or the school search.
    restartAt('index');
  },

  /** Runs a card action with the buttons disabled; shows its outcome as a toast. */
  async runAction(action: () => Promise<unknown>, doneText: string): Promise<boolean> {
    if (this.data.busy) return false;
    this.setData({ busy: true });
    try {
      await action();
      toast(doneText, 'success');
      return true;
    } catch (error) {
      toast(messageOf(error), 'fail');
      return false;
    } finally {
      this.setData({ busy: false });
    }
  },
});
