import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ContentRange } from '../port';

/** A temporary upload older than this (untouched for so long) was left by a crash: removed at start-up. */
const STALE_UPLOAD_MS = 60 * 60 * 1000;

const ID_RE = /^[0-9a-f-]{36}$/;

/**
 * The SQLite adapter's content (Binary bytes): one file per content under
 * `DATA_DIR/binary/`, outside the database so that tens of MB neither go
 * through the WAL twice nor sit in the page cache, and so that a byte range
 * is a plain positioned read.
 *
 * Crash safety: an upload is written to `tmp/<id>`, fsync'ed, renamed to
 * `<xx>/<id>` and the directory fsync'ed; only then does putContent resolve
 * (and only then may a version point at it). A crash mid-upload leaves a
 * temporary file, removed at the next start once stale; a crash after the
 * rename but before the version leaves an unreachable file (its id was
 * never handed out), harmless.
 * @see https://hl7.org/fhir/R4/binary.html
 */
export class ContentFiles {
  private readonly root: string;
  private readonly tmp: string;
  /** True for a throw-away directory (in-memory database), removed on close. */
  private readonly ephemeral: boolean;

  constructor(dataDir: string | undefined) {
    this.ephemeral = dataDir === undefined;
    this.root = dataDir === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-binary-')) : path.join(dataDir, 'binary');
    this.tmp = path.join(this.root, 'tmp');
    fs.mkdirSync(this.tmp, { recursive: true });
    this.sweep();
  }

  /** Removes temporary uploads a crash left behind (another process's live upload keeps its file fresh). */
  private sweep(): void {
    const now = Date.now();
    for (const name of fs.readdirSync(this.tmp)) {
      const file = path.join(this.tmp, name);
      try {
        if (now - fs.statSync(file).mtimeMs > STALE_UPLOAD_MS) fs.unlinkSync(file);
      } catch {
        // removed meanwhile by another process
      }
    }
  }

  async put(source: Readable): Promise<string> {
    const id = crypto.randomUUID();
    const tmp = path.join(this.tmp, id);
    try {
      // flush: the file is fsync'ed before it is closed (and before pipeline resolves).
      await pipeline(source, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true }));
    } catch (err) {
      await fs.promises.unlink(tmp).catch(() => undefined);
      throw err;
    }
    const dir = path.join(this.root, id.slice(0, 2));
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.rename(tmp, path.join(dir, id));
    await syncDir(dir);
    return id;
  }

  async open(id: string, range?: ContentRange): Promise<Readable> {
    const file = this.file(id);
    // Open first, so that an unknown id rejects here rather than failing the stream later.
    const handle = await fs.promises.open(file, 'r');
    if (range && range.end <= range.start) {
      await handle.close();
      return Readable.from([]);
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end - 1 } : {});
  }

  async delete(id: string): Promise<void> {
    await fs.promises.unlink(this.file(id)).catch(() => undefined);
  }

  close(): void {
    if (this.ephemeral) fs.rmSync(this.root, { recursive: true, force: true });
  }

  private file(id: string): string {
    if (!ID_RE.test(id)) throw new Error('Malformed content id');
    return path.join(this.root, id.slice(0, 2), id);
  }
}

/** Makes a rename durable (the directory entry), where the platform allows opening a directory. */
async function syncDir(dir: string): Promise<void> {
  let h: fs.promises.FileHandle | undefined;
  try {
    h = await fs.promises.open(dir, 'r');
    await h.sync();
  } catch {
    // Some platforms cannot fsync a directory; the file itself is synced.
  } finally {
    await h?.close();
  }
}
