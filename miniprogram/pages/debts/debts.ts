/**
 * Arrears: canteen swipes Alipay could not collect, why, and one payment to settle them all (DESIGN §7.4).
 * While any is unpaid, new swipes are declined; once the repayment is PAID they are approved again.
 * Campus-code payments Alipay refused are listed and repaid here too (DESIGN §7.5).
 */
import type { RepaymentView } from '../../shared/api';
import { formatFen } from '../../shared/format';
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { JsapiFailure, toast, tradePay } from '../../services/jsapi';
import { CASHIER_UNAVAILABLE, tradePayVerdict, type ClientVerdict } from '../../services/payment-results';
import { pollUntil } from '../../services/poll';
import { datasetValue, type TapEvent } from '../../services/events';
import { debtsHint, repaidTexts, toDebtGroups, type DebtGroup } from '../../view-models/debts';

const POLL_INTERVAL_MS = 1500;
const POLL_TIMEOUT_MS = 60 * 1000;

Page({
  data: {
    loading: true,
    errorMessage: '',
    isEmpty: false,
    groups: [] as DebtGroup[],
    totalText: '',
    hintText: '',
    repaidTexts: { notice: '', message: '' },
    paying: '',
    confirming: false,
    notice: '',
    repaid: false,
  },

  isUnloaded: false,

  onLoad(): Promise<void> {
    return this.load();
  },

  onUnload(): void {
    this.isUnloaded = true;
  },

  async load(): Promise<void> {
    this.setData({ loading: this.data.groups.length === 0, errorMessage: '' });
    try {
      const debts = await api.debts();
      this.setData({
        loading: false,
        groups: toDebtGroups(debts),
        isEmpty: debts.items.length === 0,
        totalText: formatFen(debts.totalFen),
        hintText: debtsHint(debts.items),
        // Kept from the last list that had debts: the result speaks of what was just repaid.
        repaidTexts: debts.items.length > 0 ? repaidTexts(debts.items) : this.data.repaidTexts,
      });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },

  /** Repays one school's debts (the button of its group). */
  async onRepay(event: TapEvent): Promise<void> {
    const group =
      this.data.groups.find((g) => g.schoolId === datasetValue(event, 'school')) ?? this.data.groups[0];
    if (this.data.paying || !group) return;
    this.setData({ paying: group.schoolId, notice: '' });
    try {
      // An unpaid repayment already exists: pay that one rather than creating a second.
      const repayment = group.pending ?? (await api.repayDebts(group.schoolId));
      let verdict: ClientVerdict;
      try {
        verdict = tradePayVerdict(await tradePay(repayment.tradeNo));
      } catch (error) {
        if (!(error instanceof JsapiFailure)) throw error;
        verdict = CASHIER_UNAVAILABLE;
      }
      this.setData({ notice: verdict.message });
      if (!verdict.checkServer) {
        toast(verdict.message);
        await this.load();
        return;
      }
      await this.confirmRepaid(repayment.repaymentId);
    } catch (error) {
      this.setData({ notice: messageOf(error) });
    } finally {
      this.setData({ paying: '' });
    }
  },

  async confirmRepaid(repaymentId: string): Promise<void> {
    this.setData({ confirming: true });
    const outcome = await pollUntil(
      () => api.repayment(repaymentId),
      (repayment: RepaymentView) => repayment.status !== 'CREATED',
      { intervalMs: POLL_INTERVAL_MS, timeoutMs: POLL_TIMEOUT_MS, isStopped: () => this.isUnloaded },
    );
    if (outcome.stopped) return;
    const status = outcome.value?.status;
    this.setData({
      confirming: false,
      repaid: status === 'PAID',
      notice:
        status === 'PAID'
          ? this.data.repaidTexts.notice
          : status === 'CLOSED'
            ? '这笔还款没有完成，已经关闭，请重新还款'
            : '还款结果还在确认中，请稍后刷新本页，不要重复还款',
    });
    if (status === 'PAID') toast('还款成功', 'success');
    await this.load();
  },
});
