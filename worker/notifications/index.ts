/** Notifications that leave the centre: settings, the delivery service, and what it sends. */
export { deliverDue, startNotificationDelivery, type DeliveryReport } from './delivery.ts';
export { smtpSender, type MailSender } from './mailer.ts';
export { notificationSettings, type NotificationSettings, type SmtpSettings } from './settings.ts';
