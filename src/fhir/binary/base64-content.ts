import crypto from 'node:crypto';

/**
 * The bytes of a base64 document text (`Binary.data`, an attachment's
 * `data`) and what the server asks of them: whether the text is plain
 * base64, the bytes' SHA-1 and SHA-256. An ITI-65 bundle's 1 MB PDF goes
 * through three steps that each need them (the attachment's size and hash
 * check, the validation of large base64, the content put in the store);
 * each step asks here, and a text of the last few is decoded and hashed
 * once, not once per step.
 * @see https://hl7.org/fhir/R4/datatypes.html#base64Binary
 */
export interface Base64Content {
  bytes: Buffer;
  /**
   * True when the text is canonical base64: a multiple of 4 long, only
   * `A-Z a-z 0-9 + /`, then at most two `=`. False says nothing (the text
   * may still pass a laxer check).
   */
  canonical: boolean;
  /** SHA-1 of the bytes, base64: the form of `Attachment.hash`. */
  sha1(): string;
  /** SHA-256 of the bytes, hex. */
  sha256(): string;
}

/** Texts shorter than this are cheap to decode again: not kept. */
const MIN_KEPT_CHARS = 64 * 1024;
/**
 * At most this many characters of texts are kept (with their bytes, about
 * 1.75 bytes per character: ~28 MB). A text is needed again only within its
 * own interaction, so a few texts suffice; one evicted early is decoded again.
 */
const MAX_KEPT_CHARS = 16 * 1024 * 1024;

/** Recently decoded texts, oldest first (a Map keeps insertion order). */
const kept = new Map<string, Base64Content>();
let keptChars = 0;

/** The content of a base64 text, from the recently decoded ones when it is one of them. */
export function base64Content(text: string): Base64Content {
  const known = kept.get(text);
  if (known) return known;
  const content = decode(text);
  if (text.length >= MIN_KEPT_CHARS && text.length <= MAX_KEPT_CHARS) {
    kept.set(text, content);
    keptChars += text.length;
    for (const [old] of kept) {
      if (keptChars <= MAX_KEPT_CHARS) break;
      kept.delete(old);
      keptChars -= old.length;
    }
  }
  return content;
}

function decode(text: string): Base64Content {
  const bytes = Buffer.from(text, 'base64');
  let sha1: string | undefined;
  let sha256: string | undefined;
  return {
    bytes,
    canonical: isCanonical(text, bytes.length),
    sha1: () => (sha1 ??= crypto.createHash('sha1').update(bytes).digest('base64')),
    sha256: () => (sha256 ??= crypto.createHash('sha256').update(bytes).digest('hex')),
  };
}

/**
 * Node's decoder skips any character outside the base64 alphabet (and
 * stops at a `=`), so a text with one of them decodes to fewer bytes than
 * its length promises: with `p` final `=` (p <= 2), a text of length L
 * holding an invalid character has at most L - p - 1 valid ones, which make
 * at most floor(6(L - p - 1) / 8) < 3L/4 - p bytes. The decoder also takes
 * the URL-safe `-` and `_`, looked for separately (a scan for one character
 * is far cheaper than a character-class pattern over megabytes).
 */
function isCanonical(text: string, decoded: number): boolean {
  if (text.length % 4 !== 0) return false;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.indexOf('-') >= 0 || text.indexOf('_') >= 0) return false;
  return decoded === (text.length / 4) * 3 - pad;
}
