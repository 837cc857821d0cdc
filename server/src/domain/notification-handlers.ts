import { rechargeNotification, type NotificationHandlers } from './notifications.js';

/** Which domain applies which Alipay notification. */
export const notificationHandlers: NotificationHandlers = {
  trade: { R: rechargeNotification },
};
