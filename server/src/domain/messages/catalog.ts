/**
 * The subscription messages users can get (Alipay mini-program subscription messages, ALIPAY-M2.md §3), one
 * entry per kind: what it is called, its keywords in the order of the template chosen in the merchant console
 * (keyword1 … keywordN), and the page it opens. The template id of each kind comes from the configuration
 * (ALIPAY_MESSAGE_TEMPLATES); a kind without one is not sent. To add a kind: an entry here, a template in the
 * console and in the configuration, then `queueMessage` where its event happens (outbox.ts).
 */
export const MESSAGE_KINDS = {
  RECHARGE_CREDITED: {
    title: '充值到账通知',
    keywords: ['充值金额', '校园卡', '到账时间'],
    page: 'pages/card/card',
  },
  WITHHOLDING_FAILED: {
    title: '代扣失败提醒',
    keywords: ['扣款金额', '校园卡', '失败原因'],
    page: 'pages/debts/debts',
  },
  ARREARS: {
    title: '代扣欠款提醒',
    keywords: ['欠款金额', '校园卡', '温馨提示'],
    page: 'pages/debts/debts',
  },
  BALANCE_LOW: {
    title: '余额不足提醒',
    keywords: ['校园卡', '当前余额', '提醒金额'],
    page: 'pages/recharge/recharge',
  },
  CARD_LOST: {
    title: '校园卡挂失通知',
    keywords: ['校园卡', '挂失时间', '温馨提示'],
    page: 'pages/card/card',
  },
  CARD_BOUND: {
    title: '校园卡绑定提醒',
    keywords: ['校园卡', '绑定身份', '绑定时间'],
    page: 'pages/card/card',
  },
} as const satisfies Record<string, { title: string; keywords: readonly string[]; page: string }>;

export type MessageKind = keyof typeof MESSAGE_KINDS;

export const MESSAGE_KIND_NAMES = Object.keys(MESSAGE_KINDS) as MessageKind[];

export function isMessageKind(value: string): value is MessageKind {
  return Object.prototype.hasOwnProperty.call(MESSAGE_KINDS, value);
}

/** The `data` of templatemessage.send: a JSON string `{"keyword1":{"value":"…"},…}` (ALIPAY-M2.md §3). */
export function templateData(values: readonly string[]): string {
  return JSON.stringify(
    Object.fromEntries(values.map((value, index) => [`keyword${index + 1}`, { value: value.slice(0, 100) }])),
  );
}
