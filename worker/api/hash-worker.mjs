// A password-hashing thread of the API's pool (hash-pool.ts): runs passwords.ts's argon2id
// verification off the serving thread. Plain JS so it starts without a build step; the
// TypeScript it imports goes through tsx's loader, as the CLI's does.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { verifyPassword, burnVerification } = await import('../records/passwords.ts');

parentPort.on('message', async (task) => {
  try {
    const ok =
      task.op === 'verify'
        ? await verifyPassword(task.password, task.stored)
        : (await burnVerification(task.password), false);
    parentPort.postMessage({ id: task.id, ok });
  } catch (err) {
    parentPort.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort.postMessage({ ready: true });
