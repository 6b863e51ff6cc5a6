import { getSearchParameters } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { isStoredResourceType, loadDefinitions } from '../definitions';
import { compileExpression, type CompiledPath, type PathValue } from './extract-path';
import { accepts, type Converter, converterFor, type ScalarEntry, type ScalarParamType } from './extract-values';
import { appendUnique } from './extract-dedupe';
import { containedAuthorEntries } from './contained-authors';
import type { CompositeEntry, IndexEntry } from './index-entry';
import { isImplemented } from './parse-params';

/**
 * Extracts the search index entries of a resource, at write time.
 * @see https://hl7.org/fhir/R4/search.html#ptypes
 */
export interface Indexer {
  /**
   * Every index entry of `resource`, deduplicated, in a stable order. Never
   * throws: a value that cannot be indexed is skipped (the resource is still stored).
   */
  extract(resource: Resource): IndexEntry[];
}

/**
 * Parameters the stores answer from their own columns (`_id`,
 * `_lastUpdated`). Every other parameter the server implements
 * (parse-params.ts `isImplemented`, also what the CapabilityStatement lists)
 * is extracted; so not `special` ones (Location `near`), those without an
 * expression (`_text`, `_content`...), nor Medplum's non-R4 `_compartment`.
 *
 * Also not extracted:
 * - values a parameter type cannot represent: SampledData (value-quantity),
 *   Age / Range / string for date parameters (Procedure performed[x]), an
 *   Attachment as a reference (Consent source-reference), a whole resource
 *   (Bundle `composition` / `message`: `entry[0].resource`);
 * - contained resources' own values (only `_contained` searches need them),
 *   but for the names of a DocumentReference's contained authors, under
 *   synthetic parameters (contained-authors.ts);
 * - contained (`#id`) and conditional (`Type?query`) reference targets (an
 *   identifier on such a Reference is still indexed);
 * - MolecularSequence's `*-variant-coordinate` composites, whose
 *   `%resource` component is not evaluated.
 * @see https://hl7.org/fhir/R4/search.html#all
 */
export const NOT_EXTRACTED = new Set(['_id', '_lastUpdated']);

/** Maximum composite entries per element: a product of repeating components must not explode. */
const MAX_COMBINATIONS = 64;

interface ScalarPlan {
  code: string;
  path: CompiledPath;
  convert: Converter;
}

interface CompositePlan {
  code: string;
  path: CompiledPath;
  components: ScalarPlan[];
}

interface TypePlan {
  scalars: ScalarPlan[];
  composites: CompositePlan[];
}

const EMPTY_PLAN: TypePlan = { scalars: [], composites: [] };

const SCALAR_TYPES = new Set<string>(['token', 'string', 'reference', 'date', 'number', 'quantity', 'uri']);

/** Resource-level parameters for types Medplum lists none for (Binary): meta applies to every resource. */
const RESOURCE_LEVEL = ['_profile', '_security', '_source', '_tag'];

/**
 * Creates the indexer. Each resource type's SearchParameters are compiled
 * once, on first use of that type (see extract-path.ts), so extraction on a
 * write is plain property reads. SearchParameters registered after a type's
 * first use are not seen by this indexer: register them before creating it.
 * @param options.baseUrl - this server's public base, so that absolute
 *   references to it index as local `Type/id`.
 * @see https://hl7.org/fhir/R4/search.html
 * @see https://hl7.org/fhir/R4/searchparameter.html
 */
export function createIndexer(options: { baseUrl: string }): Indexer {
  const { baseUrl } = options;
  const byUrl = new Map<string, SearchParameter>();
  for (const sp of loadDefinitions().searchParameters) {
    if (sp.url) byUrl.set(sp.url, sp);
  }
  const plans = new Map<string, TypePlan>();

  const planFor = (type: string): TypePlan => {
    let plan = plans.get(type);
    if (!plan) {
      if (!isStoredResourceType(type)) {
        // Not cached: junk resourceTypes must not grow the cache.
        return EMPTY_PLAN;
      }
      plan = buildPlan(type, baseUrl, byUrl);
      plans.set(type, plan);
    }
    return plan;
  };

  return {
    extract(resource: Resource): IndexEntry[] {
      const type = (resource as { resourceType?: unknown })?.resourceType;
      if (typeof type !== 'string') {
        return [];
      }
      const plan = planFor(type);
      const root: PathValue[] = [{ type, value: resource }];
      const out: IndexEntry[] = [];
      const scalars: ScalarEntry[] = [];
      for (const p of plan.scalars) {
        scalars.length = 0;
        evalScalar(p, root, scalars);
        appendUnique(scalars, out);
      }
      for (const p of plan.composites) {
        let elements: PathValue[];
        try {
          elements = p.path.run(root);
        } catch {
          continue;
        }
        const composites: CompositeEntry[] = [];
        for (const element of elements) {
          for (const e of combine(p, element)) composites.push(e);
        }
        appendUnique(composites, out);
      }
      if (type === 'DocumentReference') appendUnique(containedAuthorEntries(resource, baseUrl), out);
      return out;
    },
  };
}

function buildPlan(type: string, baseUrl: string, byUrl: Map<string, SearchParameter>): TypePlan {
  const params = getSearchParameters(type) ?? pick(getSearchParameters('Resource'), RESOURCE_LEVEL);
  const plan: TypePlan = { scalars: [], composites: [] };
  for (const sp of Object.values(params ?? {})) {
    if (NOT_EXTRACTED.has(sp.code) || !isImplemented(sp, type) || !sp.expression) {
      continue;
    }
    try {
      if (SCALAR_TYPES.has(sp.type)) {
        const scalar = scalarPlan(sp.code, sp.type as ScalarParamType, sp.expression, [type], baseUrl);
        if (scalar) plan.scalars.push(scalar);
      } else if (sp.type === 'composite') {
        const composite = compositePlan(sp, type, baseUrl, byUrl);
        if (composite) plan.composites.push(composite);
      }
    } catch {
      // One unusable definition (e.g. a profile's SearchParameter naming an
      // element the type lacks) must not stop the type's other parameters.
    }
  }
  return plan;
}

function pick(params: Record<string, SearchParameter> | undefined, codes: string[]): Record<string, SearchParameter> {
  const out: Record<string, SearchParameter> = {};
  for (const code of codes) {
    if (params?.[code]) out[code] = params[code];
  }
  return out;
}

function scalarPlan(code: string, type: ScalarParamType, expression: string, rootTypes: readonly string[], baseUrl: string): ScalarPlan | undefined {
  const path = compileExpression(expression, rootTypes, baseUrl);
  return path && { code, path, convert: converterFor(type, baseUrl) };
}

/**
 * A composite parameter: the composite's expression selects elements, and
 * each component's expression (relative to that element) gives the values of
 * one part, converted per the component definition's own type.
 * @see https://hl7.org/fhir/R4/search.html#composite
 */
function compositePlan(sp: SearchParameter, type: string, baseUrl: string, byUrl: Map<string, SearchParameter>): CompositePlan | undefined {
  const path = compileExpression(sp.expression as string, [type], baseUrl);
  if (!path || !sp.component?.length) {
    return undefined;
  }
  const defs = sp.component.map((c) => (c.definition ? byUrl.get(c.definition) : undefined));
  const expressions = sp.component.map((c) => c.expression ?? '');
  if (defs.some((d) => !d || !SCALAR_TYPES.has(d.type))) {
    return undefined;
  }
  const defTypes = defs.map((d) => d?.type as ScalarParamType);
  const fits = (i: number, expression: string) => {
    const types = compileExpression(expression, path.types, baseUrl)?.types ?? [];
    return types.some((t) => accepts(defTypes[i], t));
  };
  // R4's DocumentReference `relationship` pairs each component definition with
  // the other one's expression (relatesto <- code, relation <- target):
  // swap two such expressions back rather than never indexing it.
  for (let i = 0; i < expressions.length; i++) {
    for (let j = i + 1; j < expressions.length && !fits(i, expressions[i]); j++) {
      if (!fits(j, expressions[j]) && fits(i, expressions[j]) && fits(j, expressions[i])) {
        [expressions[i], expressions[j]] = [expressions[j], expressions[i]];
      }
    }
  }
  const components: ScalarPlan[] = [];
  for (let i = 0; i < defs.length; i++) {
    const compiled = scalarPlan((defs[i] as SearchParameter).code, defTypes[i], expressions[i], path.types, baseUrl);
    if (!compiled) {
      // A part that can never have a value makes the whole composite unmatchable.
      return undefined;
    }
    components.push(compiled);
  }
  return { code: sp.code, path, components };
}

function evalScalar(p: ScalarPlan, input: PathValue[], out: ScalarEntry[]): void {
  try {
    for (const v of p.path.run(input)) {
      p.convert(p.code, v, out);
    }
  } catch {
    // Odd data (or a FHIRPath fallback error) must never block the write.
  }
}

/** One composite entry per combination of the element's component values (cartesian product, capped). */
function combine(p: CompositePlan, element: PathValue): CompositeEntry[] {
  let combos: ScalarEntry[][] = [[]];
  for (const component of p.components) {
    const all: ScalarEntry[] = [];
    evalScalar(component, [element], all);
    // A composite part is matched on system|code; a text-only token (CodeableConcept.text) could never match.
    const values = all.filter((v) => v.kind !== 'token' || v.code !== null);
    if (values.length === 0) {
      return [];
    }
    const next: ScalarEntry[][] = [];
    for (const combo of combos) {
      for (const v of values) {
        if (next.length < MAX_COMBINATIONS) next.push([...combo, v]);
      }
    }
    combos = next;
  }
  return combos.map((parts) => ({ kind: 'composite', param: p.code, parts }));
}
