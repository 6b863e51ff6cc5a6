import { Readable } from 'node:stream';
import type { Binary, Resource } from '@medplum/fhirtypes';
import type { ResourceStore } from '../../store/port';
import { base64Content } from './base64-content';
import { contentRefOf, ContentMeter, tooLarge, withContentRef, type ContentRef } from './content-ref';

/**
 * The content of the Binaries one interaction writes (a single write, or
 * every entry of a transaction): puts each Binary's bytes in the store,
 * outside its JSON, before its version is written, and removes them again
 * when the interaction fails (so a refused or conflicting write leaves no
 * content behind; only a crash in between can, and that content is
 * unreachable). The writer calls {@link prepare} after the checks and the
 * validation (WriteHooks.content), so a refused caller never gets to upload.
 * @see https://hl7.org/fhir/R4/binary.html
 */
export class ContentSession {
  /** Content put per `Binary/id`: a retried write (lost race) reuses it instead of reading its source twice. */
  private readonly put = new Map<string, ContentRef>();

  constructor(
    private readonly store: ResourceStore,
    private readonly maxBytes: number,
    /** The raw body of `POST/PUT Binary` (any Content-Type), for the one Binary of the interaction. */
    private readonly raw?: Readable,
  ) {}

  /**
   * The Binary as it is to be stored: its bytes (the raw body, or base64
   * `data`) put in the store and replaced by a pointer; without new bytes,
   * the previous version's pointer is kept only if the resource still
   * carries it (a client never points a Binary at content of its choosing).
   * Other types pass unchanged.
   */
  async prepare(resource: Resource, before: Resource | undefined): Promise<Resource> {
    if (resource.resourceType !== 'Binary') return resource;
    const key = `Binary/${resource.id}`;
    const { data, ...rest } = resource as Binary;
    let ref = this.put.get(key);
    if (!ref && this.raw) {
      ref = await this.upload(this.raw);
    } else if (!ref && typeof data === 'string') {
      const content = base64Content(data);
      if (content.bytes.length > this.maxBytes) throw tooLarge(this.maxBytes);
      // Bytes already in memory: their size and hashes are known (and shared with the document checks), no meter.
      const id = await this.store.putContent(Readable.from([content.bytes]));
      ref = { id, size: content.bytes.length, sha1: content.sha1(), sha256: content.sha256() };
    }
    if (ref) {
      this.put.set(key, ref);
      return withContentRef(rest as Resource, ref);
    }
    const claimed = contentRefOf(resource);
    const previous = before && contentRefOf(before);
    return withContentRef(rest as Resource, claimed && previous && claimed.id === previous.id ? previous : undefined);
  }

  /** Removes the content put so far (the interaction failed: no version points at it). */
  async discard(): Promise<void> {
    const refs = [...this.put.values()];
    this.put.clear();
    await Promise.all(refs.map((r) => this.store.deleteContent(r.id).catch(() => undefined)));
  }

  private async upload(source: Readable): Promise<ContentRef> {
    const meter = new ContentMeter(this.maxBytes);
    // The meter fails with a 413 past the limit (and a failing source fails it): the store then keeps nothing.
    source.once('error', (err) => meter.destroy(err));
    source.once('aborted', () => meter.destroy(new Error('Upload aborted by the client')));
    const id = await this.store.putContent(source.pipe(meter));
    return meter.ref(id);
  }
}
