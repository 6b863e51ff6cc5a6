import type { Sender } from './sender';

/** One JSON line per notification on stdout (not through the logger, which never carries notification text). */
export function consoleSender(out: NodeJS.WritableStream = process.stdout): Sender {
  return {
    kind: 'console',
    needsContact: false,
    async send(n) {
      const line = `${JSON.stringify({ notification: n.id, category: n.category, patient: n.patient, subject: n.subject, text: n.text })}\n`;
      await new Promise<void>((resolve, reject) => out.write(line, (err) => (err ? reject(err) : resolve())));
    },
    async close() {},
  };
}
