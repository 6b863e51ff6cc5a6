import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { VersionRecord } from '../../store/port';
import { directoryRefs } from './compartment';
import type { ExportSource } from './sources';

/** One NDJSON file of a finished export. */
export interface ExportOutput {
  type: string;
  file: string;
  count: number;
}

/** Resources read per store query while exporting (one page is all the job holds in memory). */
export const EXPORT_PAGE_SIZE = 500;
/** Directory resources read per query when resolving references. */
const REF_CHUNK = 200;

/** How far a job got, for `X-Progress`. */
export interface ExportProgress {
  typesDone: number;
  typesTotal: number;
  resources: number;
}

/**
 * Writes an export's NDJSON files into `dir`, one per type (`Type.ndjson`,
 * one resource per line, as stored), page by page from the source: each
 * page is written, with back-pressure, before the next is read, so memory
 * holds one page whatever the size of the export. Types with no resource
 * get no file. `aborted()` is checked between pages (cancel, shutdown).
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html#file-request
 */
export async function writeExport(source: ExportSource, dir: string, progress: ExportProgress, aborted: () => boolean): Promise<ExportOutput[]> {
  const outputs: ExportOutput[] = [];
  const refs = source.referencedTypes.length > 0 ? new Set<string>() : undefined;
  progress.typesTotal = source.types.length + source.referencedTypes.length;
  for (const type of source.types) {
    const out = await writeType(dir, type, source.pages(type, EXPORT_PAGE_SIZE), progress, aborted, refs);
    if (out) outputs.push(out);
    progress.typesDone++;
  }
  for (const type of source.referencedTypes) {
    const ids = [...(refs ?? [])].filter((r) => r.startsWith(`${type}/`)).map((r) => r.slice(type.length + 1)).sort();
    const out = await writeType(dir, type, chunks(ids, (part) => source.referenced(type, part)), progress, aborted);
    if (out) outputs.push(out);
    progress.typesDone++;
  }
  return outputs;
}

async function* chunks(ids: readonly string[], read: (ids: readonly string[]) => Promise<VersionRecord[]>): AsyncGenerator<VersionRecord[]> {
  for (let i = 0; i < ids.length; i += REF_CHUNK) yield await read(ids.slice(i, i + REF_CHUNK));
}

async function writeType(
  dir: string,
  type: string,
  pages: AsyncIterable<VersionRecord[]>,
  progress: ExportProgress,
  aborted: () => boolean,
  refs?: Set<string>,
): Promise<ExportOutput | undefined> {
  const file = `${type}.ndjson`;
  let stream: fs.WriteStream | undefined;
  let count = 0;
  let failure: Error | undefined;
  try {
    for await (const page of pages) {
      if (aborted()) break;
      if (page.length === 0) continue;
      if (!stream) {
        stream = fs.createWriteStream(path.join(dir, file), { flags: 'wx', mode: 0o600 });
        // Kept, not thrown from an event: the job fails with it after the page.
        stream.on('error', (err) => (failure = err));
      }
      // Stored JSON is one line: JSON.stringify escapes every newline inside strings.
      if (!stream.write(`${page.map((v) => v.json).join('\n')}\n`)) await once(stream, 'drain');
      if (refs) for (const v of page) directoryRefs(v.json as string, refs);
      count += page.length;
      progress.resources += page.length;
      if (failure) throw failure;
    }
  } finally {
    if (stream) {
      const s = stream;
      await new Promise<void>((resolve) => s.end(() => resolve()));
    }
  }
  if (failure) throw failure;
  return count > 0 ? { type, file, count } : undefined;
}
