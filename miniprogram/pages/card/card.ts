/**
 * Card home: balance and state of one bound card, its actions (recharge, statement, loss and 解挂, unbind),
 * the withholding state and any arrears, the messages the person wants about the card; the holder sees and
 * manages everyone else who bound it; a parent with several cards switches between them here.
 */
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { forgetCard, rememberCard, rememberedCard } from '../../services/card-choice';
import { datasetValue, type TapEvent } from '../../services/events';
import {
  addCardAuth,
  confirm,
  JsapiFailure,
  navigateToMiniProgram,
  openCardList,
  stopPullDownRefresh,
  toast,
} from '../../services/jsapi';
import { addCardVerdict } from '../../services/payment-results';
import { openPage, restartAt } from '../../services/navigation';
import { askToSubscribe } from '../../services/subscriptions';
import { MoneyError, yuanToFen } from '../../shared/money';
import {
  cardTabs,
  chooseCard,
  toOtherBindingRows,
  toCardHome,
  toDebtsSummary,
  toWalletSummary,
  toWithholdingSummary,
  withholdingFor,
  type CardHome,
  type CardTab,
  type DebtsSummary,
  type OtherBindingRow,
  type WalletSummary,
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
    others: [] as OtherBindingRow[],
    lowBalanceInput: '',
    lowBalanceError: '',
    wallet: toWalletSummary(null) as WalletSummary,
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
      const card = toCardHome(detail);
      // The holder sees who else bound the card (a stranger, a parent waiting for approval).
      const others = card.isHolder ? toOtherBindingRows((await api.others(bindingId)).items) : [];
      this.setData({
        loading: false,
        isEmpty: false,
        bindingId,
        card,
        others,
        lowBalanceInput: card.lowBalanceYuan,
        lowBalanceError: '',
        tabs,
        hasSeveralCards: tabs.length > 1,
        withholding: toWithholdingSummary(withholdingFor(me.withholding, detail.school.id), bindingId),
        debts: toDebtsSummary(me.debts),
        wallet: toWalletSummary(detail.walletCard),
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

  // "Add to Alipay card wallet": Alipay's claim page for the school's claim link; card management then tells
  // the platform, so the state shown comes from the server after a reload.
  async onAddToWallet(): Promise<void> {
    if (this.data.busy || !this.data.wallet.canAdd) return;
    this.setData({ busy: true });
    try {
      const verdict = addCardVerdict(await addCardAuth(this.data.wallet.claimUrl));
      if (verdict.outcome !== 'CANCELLED')
        toast(verdict.message, verdict.outcome === 'DONE' ? 'success' : 'fail');
    } catch {
      toast('暂时无法打开支付宝卡包，请升级支付宝后重试', 'fail');
    } finally {
      this.setData({ busy: false });
    }
    await this.load();
  },

  async onOpenWallet(): Promise<void> {
    try {
      await openCardList();
    } catch {
      toast('暂时无法打开支付宝卡包，请升级支付宝后重试', 'fail');
    }
  },

  async onReportLoss(): Promise<void> {
    const confirmed = await confirm({
      title: '挂失校园卡',
      content:
        '挂失后这张卡立即不能刷卡消费，支付宝代扣也会停止，卡内余额不会丢失。找回卡片后，可以在这里解挂（学校一卡通支持时），或到学校一卡通中心解挂。确定挂失吗？',
      confirmButtonText: '确定挂失',
    });
    if (!confirmed) return;
    await this.runAction(() => api.reportLoss(this.data.bindingId), '已挂失');
    await this.load();
  },

  async onCancelLoss(): Promise<void> {
    const confirmed = await confirm({
      title: '解挂校园卡',
      content: '确认卡片已经找回？解挂后这张卡立即恢复刷卡消费。',
      confirmButtonText: '确定解挂',
    });
    if (!confirmed) return;
    await this.runAction(() => api.cancelLoss(this.data.bindingId), '已解挂');
    await this.load();
  },

  async onApproveOther(event: TapEvent): Promise<void> {
    const otherId = datasetValue(event, 'id');
    if (!otherId) return;
    await this.runAction(() => api.approveOther(this.data.bindingId, otherId), '已同意');
    await this.load();
  },

  async onRemoveOther(event: TapEvent): Promise<void> {
    const otherId = datasetValue(event, 'id');
    if (!otherId) return;
    const confirmed = await confirm({
      title: '移除绑定',
      content:
        '移除后，对方不能再查看这张卡、为它充值或挂失；如果对方为这张卡开通了代扣，也会停止。确定移除吗？',
      confirmButtonText: '确定移除',
    });
    if (!confirmed) return;
    await this.runAction(() => api.removeOther(this.data.bindingId, otherId), '已移除');
    await this.load();
  },

  /** Messages when the card is reported lost or someone else binds it. */
  async onSubscribeCardAlerts(): Promise<void> {
    const allowed = await askToSubscribe(['CARD_LOST', 'CARD_BOUND']);
    toast(allowed.length ? '已开启提醒' : '没有开启提醒');
  },

  onLowBalanceInput(value: string): void {
    this.setData({ lowBalanceInput: value, lowBalanceError: '' });
  },

  /** A message when the balance falls below the amount typed (empty turns it off). */
  async onSaveLowBalance(): Promise<void> {
    const text = this.data.lowBalanceInput.trim();
    let thresholdFen: number | null = null;
    if (text) {
      try {
        thresholdFen = yuanToFen(text);
      } catch (error) {
        if (!(error instanceof MoneyError)) throw error;
        this.setData({ lowBalanceError: '请输入金额，如 20 或 15.50' });
        return;
      }
    }
    if (thresholdFen !== null) await askToSubscribe(['BALANCE_LOW']);
    await this.runAction(
      () => api.setBalanceAlert(this.data.bindingId, thresholdFen),
      thresholdFen === null ? '已关闭余额提醒' : '已设置余额提醒',
    );
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
