import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The directories {@link tempDir} made in this test file (jest loads this module once per file). */
const made: string[] = [];

/** A fresh directory under the system's temporary folder, removed by {@link removeTempDirs}. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * Removes every directory {@link tempDir} made (call it in `afterAll`, once
 * the servers using them have stopped): a data directory can hold hundreds of
 * megabytes (the Binary memory test's upload), and CI machines are reused.
 */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
