import type { ContentRange } from '../../store/port';

/**
 * A `Range: bytes=...` header over content of `size` bytes: one range
 * (`a-b`, `a-` or the suffix `-n`), as [start, end) with end exclusive;
 * undefined when there is no usable Range (absent, another unit, or several
 * ranges: those get the whole content, which RFC 9110 allows);
 * `unsatisfiable` for a range that selects no byte (416).
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-range
 */
export function byteRange(header: string | undefined, size: number): ContentRange | 'unsatisfiable' | undefined {
  const m = header === undefined ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // Suffix: the last n bytes.
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  return start >= size ? 'unsatisfiable' : { start, end: last + 1 };
}
