import type { Operation } from 'rfc6902';

/** `…/extension[url:'URL']…`: the PDSm way of naming an extension in a patch path (straight quotes only). */
const SELECTOR = /^(.*?)\/extension\[url:(['"])([^'"]+)\2\](.*)$/;

/**
 * PDSm and "PDSm pour le DMP" (TD3.3d, archive / unarchive) address an
 * extension by its URL: `/extension[url:'…pdsm-ext-is-archived']/valueBoolean`.
 * That is not an RFC 6901 JSON Pointer, so each such path is resolved here
 * against the resource being patched, before the standard engine runs:
 * the selector becomes the index of the extension with that URL; when there
 * is none, `add` or `replace` of its `value[x]` adds the extension
 * (`{url, value[x]}`), which is what archiving a never-archived document
 * means. Any other use of a missing extension keeps its path, so the engine
 * refuses it (422). Paths without a selector are unchanged.
 * @see https://interop.esante.gouv.fr/ig/fhir/pdsm/
 * @see https://www.rfc-editor.org/rfc/rfc6901
 */
export function resolveExtensionSelectors(resource: unknown, ops: readonly Operation[]): Operation[] {
  return ops.map((op) => {
    const m = SELECTOR.exec(op.path);
    if (!m) return op;
    const [, prefix, , url, rest] = m;
    const holder = pointerGet(resource, prefix) as { extension?: { url?: string }[] } | undefined;
    const list = holder?.extension;
    const index = Array.isArray(list) ? list.findIndex((e) => e?.url === url) : -1;
    if (index >= 0) return { ...op, path: `${prefix}/extension/${index}${rest}` } as Operation;
    const value = /^\/(value[A-Z][A-Za-z]*)$/.exec(rest);
    if (holder && value && (op.op === 'add' || op.op === 'replace')) {
      const ext = { url, [value[1]]: (op as { value: unknown }).value };
      return Array.isArray(list) ? { op: 'add', path: `${prefix}/extension/-`, value: ext } : { op: 'add', path: `${prefix}/extension`, value: [ext] };
    }
    return op;
  });
}

/** The value at an RFC 6901 pointer ('' is the document), or undefined. */
function pointerGet(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
