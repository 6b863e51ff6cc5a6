import fs from 'node:fs';
import path from 'node:path';

/**
 * Waits until the server has sent the notifications its data set queued.
 * Loading thousands of patients and documents queues thousands of
 * notifications (a first access per new DMP, a notice per new document),
 * which the server's dispatcher then sends in the background: two writes
 * each (claim, completion). Measured while that backlog drains, a workload
 * would pay for the load phase's notifications. The default sender appends
 * one line per notification to DATA_DIR/notifications.ndjson: the backlog
 * is drained when that file stops growing. Gives up after `maxMs`.
 */
export async function waitForOutbox(dataDir: string | undefined, say: (s: string) => void, maxMs = 180_000): Promise<void> {
  if (!dataDir) return;
  const file = path.join(dataDir, 'notifications.ndjson');
  const size = () => (fs.existsSync(file) ? fs.statSync(file).size : 0);
  const start = Date.now();
  let last = -1;
  while (Date.now() - start < maxMs) {
    const now = size();
    if (now === last) {
      say(`  notifications sent: ${fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0} (outbox drained in ${((Date.now() - start) / 1000).toFixed(0)} s)`);
      return;
    }
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  say(`  the notification outbox was still draining after ${maxMs / 1000} s: the figures below include its writes`);
}
