import type { Resource } from '@medplum/fhirtypes';
import type { Readable } from 'node:stream';
import type { AuditTrace } from '../../audit/trace';
import { binaryRead, type BinaryRead } from '../binary/binary-read';
import { byteRange } from '../binary/byte-range';
import type { RequestContext } from '../context';
import { errors } from '../outcomes';
import type { StoredResource } from '../versioning';
import type { WriteOptions, WriteResult } from '../writer';
import type { ServiceDoor } from './door';
import type { RecordInteractions } from './records';

/** A Binary sent as raw bytes (`POST/PUT Binary` with any Content-Type but FHIR JSON). @see https://hl7.org/fhir/R4/binary.html#rest */
export interface RawBinary {
  contentType: string;
  /** `X-Security-Context`: the reference of the resource whose access rules apply (e.g. `DocumentReference/1`). */
  securityContext?: string;
  /** The bytes, streamed to the store (never held whole). */
  body: Readable;
}

/**
 * Binary in its raw form: the bytes stream to the store (outside the
 * resource JSON) through the same create/update/read paths as any resource,
 * so a Binary is checked, decided and audited like the rest; no audit here.
 * @see https://hl7.org/fhir/R4/binary.html#rest
 */
export class BinaryInteractions {
  constructor(
    private readonly door: ServiceDoor,
    private readonly records: RecordInteractions,
  ) {}

  /** `POST Binary` with raw bytes: streamed once the write is checked, then the version is written. */
  create(ctx: RequestContext, trace: AuditTrace, raw: RawBinary): Promise<WriteResult> {
    return this.records.create(ctx, trace, 'Binary', rawBinaryResource(raw), {}, undefined, this.door.contentSession(raw.body));
  }

  /** `PUT Binary/{id}` with raw bytes: a new version (or the Binary created with this id). */
  update(ctx: RequestContext, trace: AuditTrace, id: string, raw: RawBinary, opts: WriteOptions): Promise<WriteResult> {
    return this.records.update(ctx, trace, 'Binary', id, { ...rawBinaryResource(raw), id }, opts, undefined, this.door.contentSession(raw.body));
  }

  /**
   * Read (no `versionId`) or vread of a Binary for its bytes, decided before
   * any byte is sent. The `Range` is resolved here, so that a range selecting
   * no byte is refused (416) inside the audited interaction and recorded as
   * the failure it is; not when the reader will get a 304, which comes first
   * (RFC 9110 § 13.2.2).
   * @see https://profiles.ihe.net/ITI/MHD/ITI-68.html
   */
  async read(ctx: RequestContext, trace: AuditTrace, id: string, versionId?: string, bytes: BinaryBytesRequest = {}): Promise<BinaryRead> {
    const r = versionId === undefined ? await this.records.read(ctx, trace, 'Binary', id) : await this.records.vread(ctx, trace, 'Binary', id, versionId);
    const read = binaryRead(this.door.deps.store, r);
    if (bytes.notModified?.(r)) return read;
    const range = byteRange(bytes.range, read.size);
    if (range === 'unsatisfiable') throw errors.rangeNotSatisfiable(read.size);
    return range ? { ...read, range } : read;
  }
}

/** What a reader of a Binary's bytes asks for besides the Binary (ITI-68, RFC 9110). */
export interface BinaryBytesRequest {
  /** The `Range` header, when the bytes (not the FHIR JSON) are asked for. */
  range?: string;
  /** True when the reader's `If-None-Match` names this version (a 304 then, whatever the range). */
  notModified?: (r: StoredResource) => boolean;
}

/** The Binary resource of a raw upload, before its bytes are stored. */
function rawBinaryResource(raw: RawBinary): Resource {
  return { resourceType: 'Binary', contentType: raw.contentType, ...(raw.securityContext ? { securityContext: { reference: raw.securityContext } } : {}) } as Resource;
}
