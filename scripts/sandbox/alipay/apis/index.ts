import type { ApiDefinition } from '../gateway/api.js';
import { agreementQuery, agreementUnsign } from './agreement.js';
import { billDownloadUrlQuery } from './bill-query.js';
import { oauthToken, userInfoShare } from './oauth.js';
import { openAuthTokenApp, openAuthTokenAppQuery } from './open-auth.js';
import { templateMessageSend } from './template-message.js';
import { orderSettle, orderSettleQuery } from './order-settle.js';
import { tradeCancel, tradeClose } from './trade-close-cancel.js';
import { tradeCreate } from './trade-create.js';
import { tradePay } from './trade-pay.js';
import { tradePrecreate } from './trade-precreate.js';
import { tradeQuery } from './trade-query.js';
import { refundQuery, tradeRefund } from './trade-refund.js';
import { AlipayError } from '../protocol/alipay-error.js';

/** Every gateway method the sandbox knows; anything else is 40002 isv.invalid-method. */
export const API_TABLE: ReadonlyMap<string, ApiDefinition> = new Map<string, ApiDefinition>([
  ['alipay.system.oauth.token', { handle: oauthToken, errorsUnderErrorResponse: true }],
  ['alipay.user.info.share', { handle: userInfoShare }],
  ['alipay.trade.create', { handle: tradeCreate }],
  ['alipay.trade.pay', { handle: tradePay }],
  ['alipay.trade.precreate', { handle: tradePrecreate }],
  ['alipay.trade.query', { handle: tradeQuery }],
  ['alipay.trade.close', { handle: tradeClose }],
  ['alipay.trade.cancel', { handle: tradeCancel }],
  ['alipay.trade.refund', { handle: tradeRefund }],
  ['alipay.trade.fastpay.refund.query', { handle: refundQuery }],
  ['alipay.trade.order.settle', { handle: orderSettle }],
  ['alipay.trade.order.settle.query', { handle: orderSettleQuery }],
  ['alipay.user.agreement.query', { handle: agreementQuery }],
  ['alipay.user.agreement.unsign', { handle: agreementUnsign }],
  ['alipay.open.auth.token.app', { handle: openAuthTokenApp }],
  ['alipay.open.auth.token.app.query', { handle: openAuthTokenAppQuery(() => API_TABLE.keys()) }],
  ['alipay.data.dataservice.bill.downloadurl.query', { handle: billDownloadUrlQuery }],
  ['alipay.open.app.mini.templatemessage.send', { handle: templateMessageSend }],
  [
    'alipay.user.agreement.page.sign',
    {
      isPageApi: true,
      handle: () => {
        throw new AlipayError('40004', 'PAGE_API', 'page API: hand the signStr to my.paySignCenter');
      },
    },
  ],
]);
