/**
 * Subscription messages (ALIPAY-M2.md §3): before an event the person cares about (a recharge, signing
 * withholding, watching the card), the page asks Alipay's consent sheet for the matching templates and tells
 * the server what was accepted; the server sends only what was allowed. Asking never stands in the way: a
 * refusal, a closed sheet or an old client just means no message.
 */
import type { MessageKind } from '../shared/api';
import { api } from './api';
import { requestSubscribeMessage } from './jsapi';

/** Asks for the templates of these kinds (those the server has); resolves with the kinds now allowed. */
export async function askToSubscribe(kinds: MessageKind[]): Promise<MessageKind[]> {
  try {
    const { kinds: offered } = await api.messageSubscriptions();
    const wanted = offered.filter((k) => kinds.includes(k.kind)).slice(0, 3);
    if (wanted.length === 0) return [];
    const accepted = await requestSubscribeMessage(wanted.map((k) => k.templateId));
    if (accepted.length > 0) await api.recordSubscriptions(accepted);
    return wanted.filter((k) => accepted.includes(k.templateId)).map((k) => k.kind);
  } catch {
    return [];
  }
}
