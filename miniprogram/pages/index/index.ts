/**
 * Entry: silent login (auth_base), then straight to the card home when the person has a card, or to the
 * school search when not (DESIGN §7.1). It only ever shows a spinner or an error with a retry.
 */
import { api, ensureSession } from '../../services/api';
import { messageOf } from '../../services/api-error';
import { rememberedCard } from '../../services/card-choice';
import { replacePage } from '../../services/navigation';
import { chooseCard } from '../../view-models/cards';

Page({
  data: {
    loading: true,
    errorMessage: '',
  },

  onLoad(): Promise<void> {
    return this.start();
  },

  async start(): Promise<void> {
    this.setData({ loading: true, errorMessage: '' });
    try {
      await ensureSession();
      const me = await api.me();
      const bindingId = chooseCard(me.bindings, rememberedCard());
      if (bindingId) replacePage('card', { bindingId });
      else replacePage('school');
    } catch (error) {
      this.setData({ loading: false, errorMessage: messageOf(error) });
    }
  },

  onRetry(): Promise<void> {
    return this.start();
  },
});
