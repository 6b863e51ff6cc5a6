import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { Binary } from '@medplum/fhirtypes';
import type { ContentRange, ResourceStore } from '../../store/port';
import type { StoredResource } from '../versioning';
import { contentRefOf } from './content-ref';

/**
 * A Binary the caller may read (already decided and audited by FhirService):
 * its stored version and a way to stream its bytes. Opening the content
 * happens after the AuditEvent is durable, so no byte leaves before it.
 * @see https://hl7.org/fhir/R4/binary.html#rest
 */
export interface BinaryRead {
  resource: StoredResource;
  /** The stored `contentType` (application/octet-stream when absent). */
  contentType: string;
  /** Number of bytes (0 for a Binary without content). */
  size: number;
  /** The single byte range asked for and satisfiable (206), if any; the whole content otherwise. */
  range?: ContentRange;
  /** The bytes, or a range of them. */
  open(range?: ContentRange): Promise<Readable>;
  /** The resource as FHIR JSON with its bytes in base64 `data`, streamed. */
  json(): Promise<Readable>;
}

/** The read view of a stored Binary version. */
export function binaryRead(store: ResourceStore, resource: StoredResource): BinaryRead {
  const parsed = JSON.parse(resource.json) as Binary;
  const ref = contentRefOf(parsed);
  const open = async (range?: ContentRange) => (ref ? store.openContent(ref.id, range) : Readable.from([]));
  return {
    resource,
    contentType: parsed.contentType || 'application/octet-stream',
    size: ref?.size ?? 0,
    open,
    async json() {
      if (!ref) return Readable.from([resource.json]);
      // The stored JSON ends with its closing brace: `data` is appended, base64-encoded on the fly.
      const head = `${resource.json.slice(0, resource.json.lastIndexOf('}'))},"data":"`;
      const bytes = await open();
      return Readable.from(jsonParts(head, bytes.pipe(new Base64Encoder())));
    },
  };
}

async function* jsonParts(head: string, data: AsyncIterable<Buffer | string>): AsyncGenerator<string | Buffer> {
  yield head;
  for await (const chunk of data) yield chunk;
  yield '"}';
}

/** Base64 of a byte stream, chunk by chunk (carrying the 0-2 bytes that do not fill a 3-byte group). */
class Base64Encoder extends Transform {
  private rest = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const all = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const whole = all.length - (all.length % 3);
    this.rest = Buffer.from(all.subarray(whole));
    done(null, all.subarray(0, whole).toString('base64'));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.rest.toString('base64'));
  }
}
