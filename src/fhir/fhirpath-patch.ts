import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { errors } from './outcomes';
import { parseJsonPatch } from './patch';

/** `Type.element[.element…]`, each step optionally indexed (`name[0]`): the paths translated here. */
const SIMPLE_PATH = /^[A-Z][A-Za-z]+((\.[a-z][A-Za-z0-9]*(\[\d{1,4}\])?)+)$/;
const STEP = /\.([a-z][A-Za-z0-9]*)(?:\[(\d{1,4})\])?/g;

/**
 * FHIRPath Patch (a Parameters resource) for the operations the document
 * sharing profiles send, translated to JSON Patch so that one patch engine
 * (and one set of document rules) applies: `replace` and `delete` of an
 * element named by a simple path (`DocumentReference.status`,
 * `DocumentReference.securityLabel[0]`). That covers IHE MHD's
 * `IHE.MHD.Patch.Parameters` (the superseded status of an ITI-65
 * replacement). Other operation types (add, insert, move) and paths with
 * functions are refused with a 400 that says so.
 * @see https://hl7.org/fhir/R4/fhirpatch.html
 * @see https://profiles.ihe.net/ITI/MHD/StructureDefinition-IHE.MHD.Patch.Parameters.html
 */
export function fhirPathPatchToJsonPatch(body: Parameters, resourceType: string): Operation[] {
  const ops = (body.parameter ?? []).map((p, i) => {
    if (p.name !== 'operation') throw errors.badRequest(`FHIRPath Patch parameter ${i} is not an "operation"`);
    return operationOf(p, i, resourceType);
  });
  if (ops.length === 0) throw errors.badRequest('The FHIRPath Patch has no operation');
  return ops;
}

/**
 * The JSON Patch operations of a FHIRPath Patch body (HTTP PATCH in FHIR
 * JSON, or a transaction's PATCH entry): a Parameters resource, translated
 * (see {@link fhirPathPatchToJsonPatch}) and checked like any JSON Patch.
 */
export function fhirPathPatchOperations(body: unknown, resourceType: string): Operation[] {
  if ((body as { resourceType?: unknown } | null)?.resourceType !== 'Parameters') {
    throw errors.badRequest('A FHIRPath Patch (application/fhir+json) is a Parameters resource');
  }
  return parseJsonPatch(fhirPathPatchToJsonPatch(body as Parameters, resourceType));
}

function operationOf(p: ParametersParameter, i: number, resourceType: string): Operation {
  const part = (name: string) => (p.part ?? []).find((x) => x.name === name);
  const type = part('type')?.valueCode;
  const path = part('path')?.valueString;
  if (typeof path !== 'string') throw errors.badRequest(`FHIRPath Patch operation ${i} has no path`);
  const m = SIMPLE_PATH.exec(path);
  if (!m || !path.startsWith(`${resourceType}.`)) {
    throw errors.badRequest(`FHIRPath Patch operation ${i}: only simple paths on ${resourceType} (e.g. ${resourceType}.status) are supported, not "${path}"`);
  }
  const pointer = [...m[1].matchAll(STEP)].map(([, name, index]) => `/${name}${index !== undefined ? `/${index}` : ''}`).join('');
  if (type === 'delete') return { op: 'remove', path: pointer };
  if (type !== 'replace') throw errors.badRequest(`FHIRPath Patch operation ${i}: only replace and delete are supported, not ${JSON.stringify(type)}`);
  const value = part('value');
  const key = value && Object.keys(value).find((k) => k.startsWith('value'));
  if (!value || !key) throw errors.badRequest(`FHIRPath Patch operation ${i} (replace) needs a primitive or datatype value`);
  return { op: 'replace', path: pointer, value: (value as unknown as Record<string, unknown>)[key] };
}
