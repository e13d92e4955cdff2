/**
 * The delivering process of `notifications-crash.test.ts`: opens the embedded store in
 * `CUSTODIA_TEST_DATA_DIR`, runs the delivery service with the SMTP settings of its environment,
 * prints `ready`, and stops cleanly on SIGTERM (the test SIGKILLs the first one mid-batch).
 */
import { startNotificationDelivery } from '../../worker/notifications/delivery.ts';
import { notificationSettings } from '../../worker/notifications/settings.ts';
import { openStore } from '../../worker/records/store.ts';

const store = await openStore({ dataDir: process.env.CUSTODIA_TEST_DATA_DIR! });
const stop = startNotificationDelivery(store, notificationSettings());
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
