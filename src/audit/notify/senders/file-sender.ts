import fs from 'node:fs/promises';
import path from 'node:path';
import type { Sender } from './sender';

/**
 * The default sender: one JSON line per notification appended to a file
 * (default `DATA_DIR/notifications.ndjson`), flushed to disk before the
 * notification counts as sent. For development and for an operator's own
 * relay that tails the file.
 */
export function fileSender(file: string): Sender {
  let dirReady: Promise<unknown> | undefined;
  return {
    kind: 'file',
    needsContact: false,
    async send(n) {
      dirReady ??= fs.mkdir(path.dirname(file), { recursive: true });
      await dirReady;
      const line = `${JSON.stringify({ id: n.id, category: n.category, patient: n.patient, subject: n.subject, text: n.text, at: new Date().toISOString() })}\n`;
      // One write of one line on an O_APPEND descriptor: lines of concurrent senders never interleave.
      const fh = await fs.open(file, 'a', 0o600);
      try {
        await fh.write(line);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    },
    async close() {},
  };
}
