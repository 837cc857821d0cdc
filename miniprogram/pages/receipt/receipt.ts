/** One statement row in full: order numbers, times, Alipay's trade number, the place and the state timeline. */
import { api } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { toReceiptPage, type ReceiptPage } from '../../view-models/statement';

Page({
  data: {
    loading: true,
    errorMessage: '',
    bindingId: '',
    entryId: '',
    receipt: null as ReceiptPage | null,
  },

  onLoad(query: { bindingId?: string; entryId?: string }): Promise<void> {
    this.setData({ bindingId: query.bindingId ?? '', entryId: query.entryId ?? '' });
    return this.load();
  },

  async load(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const receipt = await api.receipt(this.data.bindingId, this.data.entryId);
      this.setData({ loading: false, receipt: toReceiptPage(receipt) });
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.load();
  },
});
