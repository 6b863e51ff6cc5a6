import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** Finds a StructureDefinition (with a snapshot) by canonical URL or by base type name. */
export type SdResolver = (canonical: string) => StructureDefinition | undefined;

/**
 * Builds the snapshot of a profile written as a differential: the base's
 * snapshot, with each differential element merged onto the element of the
 * same id; a new slice (`Patient.identifier:INS`) is a copy of the sliced
 * element; an element below a complex type the base does not unfold
 * (`DocumentReference.type.coding`) is taken from that datatype's snapshot.
 * Simplified from the algorithm of the spec (no re-slicing, no
 * contentReference unfolding), which is all the server's own profiles use.
 * @see https://hl7.org/fhir/R4/profiling.html#snapshot
 */
export function generateSnapshot(sd: StructureDefinition, resolve: SdResolver): StructureDefinition {
  const base = resolve(sd.baseDefinition as string);
  if (!base?.snapshot?.element) {
    throw new Error(`base definition ${sd.baseDefinition} is not known`);
  }
  const elements: ElementDefinition[] = base.snapshot.element.map((e) => clone(e));
  for (const diff of sd.differential?.element ?? []) {
    const id = diff.id ?? diff.path;
    let index = elements.findIndex((e) => (e.id ?? e.path) === id);
    if (index < 0) {
      index = insertElement(elements, id, diff, resolve);
    }
    elements[index] = merge(elements[index], diff);
  }
  // The root element is named after the profile's type.
  return { ...sd, snapshot: { element: elements } };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Differential values override the base; constraints add up, as profiles only tighten. */
function merge(base: ElementDefinition, diff: ElementDefinition): ElementDefinition {
  const out: ElementDefinition = { ...base, ...clone(diff) };
  if (base.constraint && diff.constraint) {
    out.constraint = [...base.constraint, ...clone(diff.constraint)];
  }
  return out;
}

/** Inserts the element with this id (a slice or an element below a datatype) and returns its index. */
function insertElement(elements: ElementDefinition[], id: string, diff: ElementDefinition, resolve: SdResolver): number {
  const lastDot = lastSegmentStart(id);
  const parentId = id.slice(0, lastDot);
  const segment = id.slice(lastDot + 1);
  const colon = segment.indexOf(':');
  if (colon >= 0) {
    // A slice: copy the sliced element (and nothing below: the differential names what it constrains).
    const slicedId = `${parentId}.${segment.slice(0, colon)}`;
    const sliced = elements.findIndex((e) => (e.id ?? e.path) === slicedId);
    if (sliced < 0) {
      throw new Error(`slice ${id}: element ${slicedId} is not in the base`);
    }
    const copy: ElementDefinition = { ...clone(elements[sliced]), id, sliceName: segment.slice(colon + 1) };
    delete copy.slicing;
    const at = endOfSubtree(elements, sliced);
    elements.splice(at, 0, copy);
    return at;
  }
  // A child of a slice: a copy of the same child of the sliced element, when the base has it.
  const unsliced = elements.find((e) => (e.id ?? e.path) === id.replace(/:[^.]+/g, ''));
  let parent = elements.findIndex((e) => (e.id ?? e.path) === parentId);
  if (parent < 0) {
    parent = insertElement(elements, parentId, { path: parentId.replace(/:[^.]+/g, '') } as ElementDefinition, resolve);
  }
  const p = elements[parent];
  if (unsliced) {
    const copy: ElementDefinition = { ...clone(unsliced), id };
    const at = endOfSubtree(elements, parent);
    elements.splice(at, 0, copy);
    return at;
  }
  const typeCode = p.type?.[0]?.code;
  const typeSd = typeCode ? resolve(p.type?.[0]?.profile?.[0] ?? typeCode) : undefined;
  const source = typeSd?.snapshot?.element?.find((e) => e.path === `${typeSd.type}.${segment}`);
  if (!source) {
    throw new Error(`element ${id}: ${segment} is not an element of ${typeCode ?? 'its parent'}`);
  }
  const copy: ElementDefinition = { ...clone(source), id, path: `${p.path}.${segment}` };
  const at = endOfSubtree(elements, parent);
  elements.splice(at, 0, copy);
  void diff;
  return at;
}

/** Index just after the element and everything below it (its children and slices). */
function endOfSubtree(elements: ElementDefinition[], index: number): number {
  const id = elements[index].id ?? elements[index].path;
  let i = index + 1;
  while (i < elements.length) {
    const other = elements[i].id ?? elements[i].path;
    if (!(other.startsWith(`${id}.`) || other.startsWith(`${id}:`))) {
      break;
    }
    i++;
  }
  return i;
}

/** Start of the last id segment, ignoring dots inside slice names (`ext:a.b` does not occur in ours, but URLs may). */
function lastSegmentStart(id: string): number {
  return id.lastIndexOf('.');
}
