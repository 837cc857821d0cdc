/**
 * What the Alipay cashier and agreement-signing result codes mean for the person (ALIPAY.md §5, §4.10).
 * The client result is a hint only: whenever money may have moved (`checkServer`), the page asks the
 * server, which learns the truth from Alipay's notification or query.
 */
export type ClientOutcome = 'DONE' | 'UNCONFIRMED' | 'CANCELLED' | 'FAILED';

export interface ClientVerdict {
  outcome: ClientOutcome;
  /** Whether the server must be asked for the real state (the money may have moved). */
  checkServer: boolean;
  message: string;
}

const TRADE_PAY: Record<string, ClientVerdict> = {
  '9000': { outcome: 'DONE', checkServer: true, message: '支付成功，正在确认到账' },
  '8000': { outcome: 'UNCONFIRMED', checkServer: true, message: '支付处理中，正在确认结果' },
  '6004': { outcome: 'UNCONFIRMED', checkServer: true, message: '支付结果未知，正在确认' },
  // The network broke after the cashier opened: the payment may have gone through.
  '6002': { outcome: 'UNCONFIRMED', checkServer: true, message: '网络异常，正在确认支付结果' },
  '6001': { outcome: 'CANCELLED', checkServer: false, message: '您已取消支付，没有扣款' },
  // iOS "forgot password" exit.
  '99': { outcome: 'CANCELLED', checkServer: false, message: '您已退出支付，没有扣款' },
  '4000': { outcome: 'FAILED', checkServer: false, message: '支付没有成功，请稍后重试' },
};

export function tradePayVerdict(resultCode: string): ClientVerdict {
  return (
    TRADE_PAY[resultCode] ?? { outcome: 'UNCONFIRMED', checkServer: true, message: '支付结果未知，正在确认' }
  );
}

/** my.tradePay's fail callback (e.g. 4: no permission): the cashier never opened, nothing was paid. */
export const CASHIER_UNAVAILABLE: ClientVerdict = {
  outcome: 'FAILED',
  checkServer: false,
  message: '暂时无法打开支付宝收银台，请稍后重试',
};

const PAY_SIGN: Record<string, ClientVerdict> = {
  '7000': { outcome: 'DONE', checkServer: true, message: '签约成功，正在确认开通状态' },
  '7001': { outcome: 'UNCONFIRMED', checkServer: true, message: '签约结果确认中' },
  '7002': { outcome: 'FAILED', checkServer: false, message: '签约没有成功，请稍后重试' },
  '6001': { outcome: 'CANCELLED', checkServer: false, message: '您已取消签约' },
  '6002': { outcome: 'UNCONFIRMED', checkServer: true, message: '网络异常，正在确认签约结果' },
};

export function paySignVerdict(resultStatus: string): ClientVerdict {
  return PAY_SIGN[resultStatus] ?? { outcome: 'UNCONFIRMED', checkServer: true, message: '签约结果确认中' };
}

export const SIGNING_UNAVAILABLE: ClientVerdict = {
  outcome: 'FAILED',
  checkServer: false,
  message: '暂时无法打开支付宝签约页面，请升级支付宝后重试',
};

/**
 * What my.addCardAuth's answer means: `success` with resultStatus 9000 is a card taken into the wallet
 * (card management then tells the platform, cardChange ADD); JSAPI_SERVICE_TERMINATED is the person backing
 * out; anything else did not work.
 */
export function addCardVerdict(answer: {
  success?: boolean;
  resultStatus?: string;
  code?: string;
}): ClientVerdict {
  if (answer.success === true || answer.resultStatus === '9000') {
    return { outcome: 'DONE', checkServer: true, message: '已添加到支付宝卡包' };
  }
  if (answer.code === 'JSAPI_SERVICE_TERMINATED') {
    return { outcome: 'CANCELLED', checkServer: false, message: '您已取消添加' };
  }
  return { outcome: 'FAILED', checkServer: false, message: '没有添加到卡包，请稍后重试' };
}
