/** How a vending machine's or window's order reads on the payment page (issue #15). */
import type { TerminalOrderPageView } from '../shared/api';
import { formatFen } from '../shared/format';

export interface OrderLine {
  key: string;
  name: string;
  quantityText: string;
  amountText: string;
}

export function orderLines(order: TerminalOrderPageView): OrderLine[] {
  return order.items.map((item, index) => ({
    key: String(index),
    name: item.name,
    quantityText: `×${item.quantity}`,
    amountText: formatFen(item.quantity * item.unitFen),
  }));
}

export function placeText(order: TerminalOrderPageView): string {
  const kind = order.terminal.kind === 'VENDING' ? '售货机' : '收银窗口';
  return [order.schoolName, order.terminal.location, `${order.terminal.name}（${kind}）`]
    .filter((part) => !!part)
    .join(' · ');
}

/** What the page says about the order's state, and whether the pay button shows. */
export function stateText(order: TerminalOrderPageView): { text: string; payable: boolean } {
  switch (order.state) {
    case 'PAYABLE':
      return { text: '', payable: true };
    case 'PAID_BY_ME':
      return {
        text: order.terminal.kind === 'VENDING' ? '支付成功，请在机器上取货' : '支付成功，请到窗口取餐',
        payable: false,
      };
    case 'PAID':
      return { text: '这笔订单已经支付过了', payable: false };
    case 'CLOSED':
      return { text: '订单已超时关闭，请在机器上重新下单', payable: false };
  }
}

export function isSettled(order: TerminalOrderPageView): boolean {
  return order.state !== 'PAYABLE';
}
