import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Extension, Resource } from '@medplum/fhirtypes';
import { DMP_BASE } from '../../access/codes';
import { errors } from '../outcomes';

/**
 * `meta.extension` on a stored Binary: where its bytes are (a content id of
 * ResourceStore.putContent), their size and hashes. Binary has no
 * `extension` of its own (it is not a DomainResource), so the pointer lives
 * in `meta`, like the creator mark. Set by the server only: a client's value
 * is dropped unless it is the previous version's (a PATCH or a PUT that
 * keeps the content).
 * @see https://hl7.org/fhir/R4/binary.html
 */
export const BINARY_CONTENT_EXTENSION = `${DMP_BASE}/StructureDefinition/dmp-binary-content`;

/** Where a Binary's bytes are and what they are. */
export interface ContentRef {
  /** Content id in the store. */
  id: string;
  size: number;
  /** SHA-1, base64: the form of `Attachment.hash`. */
  sha1: string;
  /** SHA-256, hex. */
  sha256: string;
}

/** The content pointer of a stored Binary, if it has content. */
export function contentRefOf(resource: Resource): ContentRef | undefined {
  const ext = resource.meta?.extension?.find((e) => e.url === BINARY_CONTENT_EXTENSION);
  const part = (url: string) => ext?.extension?.find((e) => e.url === url);
  const id = part('id')?.valueString;
  const size = part('size')?.valueInteger;
  if (!id || typeof size !== 'number') return undefined;
  return { id, size, sha1: part('sha1')?.valueBase64Binary ?? '', sha256: part('sha256')?.valueString ?? '' };
}

/** The resource with `ref` as its content pointer (or none), replacing any other. */
export function withContentRef<T extends Resource>(resource: T, ref: ContentRef | undefined): T {
  const others = (resource.meta?.extension ?? []).filter((e) => e.url !== BINARY_CONTENT_EXTENSION);
  const ext: Extension[] = ref
    ? [
        {
          url: BINARY_CONTENT_EXTENSION,
          extension: [
            { url: 'id', valueString: ref.id },
            { url: 'size', valueInteger: ref.size },
            { url: 'sha1', valueBase64Binary: ref.sha1 },
            { url: 'sha256', valueString: ref.sha256 },
          ],
        },
      ]
    : [];
  const extension = [...others, ...ext];
  const { extension: _old, ...meta } = resource.meta ?? {};
  return { ...resource, meta: extension.length > 0 ? { ...meta, extension } : meta };
}

/**
 * Counts and hashes bytes on their way to the store, and fails the stream
 * with a 413 as soon as they exceed `maxBytes` (so an oversized upload is
 * refused without being stored or buffered).
 */
export class ContentMeter extends Transform {
  size = 0;
  private readonly h1 = crypto.createHash('sha1');
  private readonly h256 = crypto.createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(tooLarge(this.maxBytes));
      return;
    }
    this.h1.update(chunk);
    this.h256.update(chunk);
    done(null, chunk);
  }

  /** The pointer to the content once the store gave its id. */
  ref(id: string): ContentRef {
    return { id, size: this.size, sha1: this.h1.digest('base64'), sha256: this.h256.digest('hex') };
  }
}

/** The 413 of an oversized Binary. */
export function tooLarge(maxBytes: number) {
  return errors.payloadTooLarge(`Binary content is larger than the limit of ${maxBytes} bytes (BINARY_MAX_SIZE)`);
}
