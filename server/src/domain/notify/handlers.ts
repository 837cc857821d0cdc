import { repaymentNotification } from '../withholding/debts.js';
import { rechargeNotification, type NotificationHandlers } from './notifications.js';
import { agreementNotification } from '../withholding/agreements.js';

/** Which domain applies which Alipay notification. */
export const notificationHandlers: NotificationHandlers = {
  trade: { R: rechargeNotification, P: repaymentNotification },
  agreement: agreementNotification,
};
