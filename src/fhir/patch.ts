import type { Resource } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { cloneJson } from './json/lexemes';
import { applyOperation } from './json/patch-lexemes';
import { errors } from './outcomes';
import { resolveExtensionSelectors } from './patch-selectors';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
/** Segments that would reach Object.prototype; no FHIR element has these names. */
const FORBIDDEN_SEGMENT = /(^|\/)(__proto__|constructor|prototype)(\/|$)/;

/**
 * Checks that `body` is a JSON Patch document (RFC 6902): an array of
 * operations, each with a known `op`, a string `path`, and `value` / `from`
 * where the op needs them. Malformed documents are a 400.
 * @see https://hl7.org/fhir/R4/http.html#patch
 */
export function parseJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body)) {
    throw errors.badRequest('A JSON Patch document must be an array of operations');
  }
  body.forEach((op: unknown, i) => {
    const where = `operation ${i}`;
    if (typeof op !== 'object' || op === null || Array.isArray(op)) {
      throw errors.badRequest(`JSON Patch ${where} is not an object`);
    }
    const o = op as Record<string, unknown>;
    if (typeof o.op !== 'string' || !OPS.has(o.op)) {
      throw errors.badRequest(`JSON Patch ${where} has an unknown "op" (${JSON.stringify(o.op)})`);
    }
    if (typeof o.path !== 'string' || (o.path !== '' && !o.path.startsWith('/'))) {
      throw errors.badRequest(`JSON Patch ${where} needs a "path" that is a JSON Pointer`);
    }
    if ((o.op === 'add' || o.op === 'replace' || o.op === 'test') && !('value' in o)) {
      throw errors.badRequest(`JSON Patch ${where} (${o.op}) needs a "value"`);
    }
    if ((o.op === 'move' || o.op === 'copy') && typeof o.from !== 'string') {
      throw errors.badRequest(`JSON Patch ${where} (${o.op}) needs a "from" pointer`);
    }
    if (FORBIDDEN_SEGMENT.test(o.path) || (typeof o.from === 'string' && FORBIDDEN_SEGMENT.test(o.from))) {
      throw errors.badRequest(`JSON Patch ${where} addresses a forbidden member`);
    }
  });
  return body as Operation[];
}

/**
 * Applies the operations to a copy of `resource`, all or nothing: a failed
 * `test` or a path that does not exist rejects the whole patch (422) and the
 * stored resource is untouched. The patch may not change `resourceType` or `id`.
 * Extensions named by URL in a path (PDSm) are resolved first (patch-selectors.ts).
 */
export function applyJsonPatch(resource: Resource, ops: Operation[]): Resource {
  // Copied and applied keeping decimals' texts (a patch replacing a value with 1.50 stores 1.50).
  const copy = cloneJson(resource);
  ops = resolveExtensionSelectors(copy, ops);
  for (let i = 0; i < ops.length; i++) {
    const err = applyOperation(copy, ops[i]);
    if (err === null) continue;
    const reason = err.name === 'TestError' ? 'its test failed' : 'its path does not exist or cannot be applied';
    throw errors.unprocessable(`JSON Patch operation ${i} (${ops[i].op} ${ops[i].path}) failed: ${reason}`);
  }
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) {
    throw errors.unprocessable('The patched document is not a resource');
  }
  if (copy.resourceType !== resource.resourceType || copy.id !== resource.id) {
    throw errors.unprocessable('A patch may not change resourceType or id');
  }
  return copy;
}
