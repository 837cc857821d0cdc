import { repaymentNotification } from '../withholding/debts.js';
import { rechargeNotification, type NotificationHandlers } from './notifications.js';
import { agreementNotification } from '../withholding/agreements.js';
import { appAuthCancelledMessage, appAuthNotification } from '../schools/isv-notifications.js';
import { terminalNotification } from '../terminals/payments.js';
import { terminalSettleMessage } from '../terminals/settle.js';

/** Which domain applies which Alipay notification. */
export const notificationHandlers: NotificationHandlers = {
  trade: { R: rechargeNotification, P: repaymentNotification, T: terminalNotification },
  agreement: agreementNotification,
  notifyTypes: { open_app_auth_notify: appAuthNotification },
  messages: {
    'alipay.open.auth.appauth.cancelled': appAuthCancelledMessage,
    'alipay.trade.order.settle.notify': terminalSettleMessage,
  },
};
