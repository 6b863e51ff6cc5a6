import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, type Collection, type Db } from 'mongodb';
import type { ContentRange } from '../port';

/** The GridFS bucket of Binary content: collections `binary.files` and `binary.chunks`. */
export const CONTENT_BUCKET = 'binary';
/** The GridFS default (255 kB): a few chunks per read batch keep a download's memory small. */
const CHUNK_BYTES = 255 * 1024;
/** Chunks fetched per round trip when reading: about 2 MB in memory at most. */
const READ_BATCH = 8;

interface FileDoc {
  _id: string;
  length: number;
  chunkSize: number;
}
interface ChunkDoc {
  files_id: string;
  n: number;
  data: { buffer: Uint8Array } | Buffer;
}

/**
 * The MongoDB adapter's content (Binary bytes) in GridFS, which is plain
 * collections (so it works on FerretDB 1.x as on MongoDB). Uploads use the
 * driver's GridFSBucket: chunks first, the `files` document last, all
 * majority-journaled, so a content id is handed out only once all of it is
 * durable; a failed upload removes its chunks (abort), a crash mid-upload
 * leaves chunks without a `files` document, unreachable and harmless.
 * Reads are the adapter's own cursor over `chunks` with a small batch size
 * (the driver's download stream lets the server choose up to 16 MB per
 * batch) and honour a byte range.
 * @see https://www.mongodb.com/docs/manual/core/gridfs/
 */
export class GridFsContent {
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<FileDoc>;
  private readonly chunks: Collection<ChunkDoc>;

  constructor(db: Db) {
    const writeConcern = { w: 'majority' as const, journal: true };
    this.bucket = new GridFSBucket(db, { bucketName: CONTENT_BUCKET, chunkSizeBytes: CHUNK_BYTES, writeConcern });
    this.files = db.collection<FileDoc>(`${CONTENT_BUCKET}.files`);
    this.chunks = db.collection<ChunkDoc>(`${CONTENT_BUCKET}.chunks`);
  }

  async put(source: Readable): Promise<string> {
    const id = crypto.randomUUID();
    const upload = this.bucket.openUploadStreamWithId(id as never, id);
    try {
      await pipeline(source, upload);
    } catch (err) {
      await upload.abort().catch(() => undefined);
      throw err;
    }
    return id;
  }

  async open(id: string, range?: ContentRange): Promise<Readable> {
    const file = await this.files.findOne({ _id: { $eq: id } });
    if (!file) throw new Error('Unknown content');
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? file.length, file.length);
    if (end <= start) return Readable.from([]);
    const size = file.chunkSize;
    const first = Math.floor(start / size);
    const last = Math.floor((end - 1) / size);
    const cursor = this.chunks
      .find({ files_id: { $eq: id }, n: { $gte: first, $lte: last } })
      .sort({ n: 1 })
      .batchSize(READ_BATCH);
    async function* bytes(): AsyncGenerator<Buffer> {
      let expected = first;
      try {
        for await (const c of cursor) {
          if (c.n !== expected) throw new Error(`Content chunk ${expected} is missing`);
          expected++;
          const data = Buffer.isBuffer(c.data) ? c.data : Buffer.from(c.data.buffer);
          const offset = c.n * size;
          yield data.subarray(Math.max(0, start - offset), Math.min(data.length, end - offset));
        }
        if (expected !== last + 1) throw new Error('Content is truncated');
      } finally {
        await cursor.close();
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  async delete(id: string): Promise<void> {
    // The files document first: a crash in between leaves only unreachable chunks.
    await this.files.deleteOne({ _id: { $eq: id } });
    await this.chunks.deleteMany({ files_id: { $eq: id } });
  }
}
