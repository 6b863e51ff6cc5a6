import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { loadTerminology } from '../definitions';

/** One code of an expansion. */
export interface ExpandedCode {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

/** An expansion: the codes, and whether it is complete (every include could be resolved locally). */
export interface Expansion {
  readonly codes: readonly ExpandedCode[];
  readonly keys: ReadonlySet<string>;
  readonly complete: boolean;
}

/**
 * Code systems and value sets of terminology/ (plus those of base R4), with
 * expansions computed once and cached. Supports the compose forms the ANS
 * sets use: concept lists, whole code systems, `valueSet` imports, exclude,
 * and the `is-a` / `descendent-of` / `=` filters.
 * @see https://hl7.org/fhir/R4/valueset.html#compositions
 */
export class TerminologyStore {
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly expansions = new Map<string, Expansion>();

  constructor(codeSystems: readonly CodeSystem[], valueSets: readonly ValueSet[]) {
    const base = loadTerminology();
    for (const [url, cs] of base.codeSystems) {
      this.codeSystems.set(url, cs);
    }
    for (const [url, vs] of base.valueSets) {
      this.valueSets.set(url, vs);
    }
    for (const cs of codeSystems) {
      this.codeSystems.set(cs.url as string, cs);
      this.codeSystems.set(`${cs.url}|${cs.version}`, cs);
    }
    for (const vs of valueSets) {
      this.valueSets.set(vs.url as string, vs);
      this.valueSets.set(`${vs.url}|${vs.version}`, vs);
    }
  }

  /** The value set by canonical (`url` or `url|version`). */
  valueSet(canonical: string): ValueSet | undefined {
    return this.valueSets.get(canonical) ?? this.valueSets.get(canonical.split('|')[0]);
  }

  /** The code system by canonical. */
  codeSystem(canonical: string): CodeSystem | undefined {
    return this.codeSystems.get(canonical) ?? this.codeSystems.get(canonical.split('|')[0]);
  }

  /** The cached expansion of a value set, undefined when it is not known. */
  expand(canonical: string): Expansion | undefined {
    const cached = this.expansions.get(canonical);
    if (cached) {
      return cached;
    }
    const vs = this.valueSet(canonical);
    if (!vs) {
      return undefined;
    }
    // Guards against a value set that imports itself.
    this.expansions.set(canonical, { codes: [], keys: new Set(), complete: false });
    const expansion = this.compute(vs);
    this.expansions.set(canonical, expansion);
    return expansion;
  }

  /** Expands a ValueSet given inline (`$expand` with a `valueSet` parameter); not cached. */
  expandResource(vs: ValueSet): Expansion {
    return this.compute(vs);
  }

  /** Finds a concept of a code system (case-insensitively when the system says so). */
  lookup(system: string, code: string): CodeSystemConcept | undefined {
    const cs = this.codeSystem(system);
    if (!cs) {
      return undefined;
    }
    const wanted = cs.caseSensitive === false ? code.toLowerCase() : code;
    return flatten(cs.concept ?? []).find((c) => (cs.caseSensitive === false ? c.code.toLowerCase() : c.code) === wanted);
  }

  private compute(vs: ValueSet): Expansion {
    if (vs.expansion?.contains && !vs.compose) {
      const codes = vs.expansion.contains.filter((c) => c.system && c.code).map((c) => ({ system: c.system as string, code: c.code as string, display: c.display }));
      return withKeys(codes, true);
    }
    let complete = true;
    const included: ExpandedCode[] = [];
    for (const inc of vs.compose?.include ?? []) {
      const r = this.include(inc);
      complete &&= r.complete;
      included.push(...r.codes);
    }
    const excluded = new Set<string>();
    for (const exc of vs.compose?.exclude ?? []) {
      for (const c of this.include(exc).codes) {
        excluded.add(`${c.system}|${c.code}`);
      }
    }
    const seen = new Set<string>();
    const codes = included.filter((c) => {
      const k = `${c.system}|${c.code}`;
      if (excluded.has(k) || seen.has(k)) {
        return false;
      }
      seen.add(k);
      return true;
    });
    return withKeys(codes, complete);
  }

  private include(inc: ValueSetComposeInclude): { codes: ExpandedCode[]; complete: boolean } {
    let complete = true;
    let codes: ExpandedCode[] | undefined;
    if (inc.system) {
      const system = inc.system;
      if (inc.concept) {
        codes = inc.concept.map((c) => ({ system, code: c.code, display: c.display ?? this.lookup(system, c.code)?.display }));
      } else {
        const cs = this.codeSystem(inc.version ? `${system}|${inc.version}` : system);
        if (!cs || cs.content === 'not-present' || cs.content === 'fragment') {
          complete = false;
          codes = [];
        } else {
          codes = selectByFilters(cs, inc.filter ?? []).map((c) => ({ system, code: c.code, display: c.display }));
        }
      }
    }
    for (const imported of inc.valueSet ?? []) {
      const exp = this.expand(imported);
      complete &&= exp?.complete ?? false;
      const keys = exp?.keys ?? new Set<string>();
      codes = codes === undefined ? [...(exp?.codes ?? [])] : codes.filter((c) => keys.has(`${c.system}|${c.code}`));
    }
    return { codes: codes ?? [], complete };
  }
}

function withKeys(codes: ExpandedCode[], complete: boolean): Expansion {
  return { codes, keys: new Set(codes.map((c) => `${c.system}|${c.code}`)), complete };
}

function flatten(concepts: readonly CodeSystemConcept[]): CodeSystemConcept[] {
  return concepts.flatMap((c) => [c, ...flatten(c.concept ?? [])]);
}

/** Applies compose filters; an unsupported filter op selects nothing (and says so by an empty result). */
function selectByFilters(cs: CodeSystem, filters: readonly { property: string; op: string; value: string }[]): CodeSystemConcept[] {
  let selected = flatten(cs.concept ?? []);
  for (const f of filters) {
    if ((f.op === 'is-a' || f.op === 'descendent-of') && f.property === 'concept') {
      const root = flatten(cs.concept ?? []).find((c) => c.code === f.value);
      const below = root ? flatten(root.concept ?? []) : [];
      const allowed = new Set([...(f.op === 'is-a' && root ? [root] : []), ...below].map((c) => c.code));
      selected = selected.filter((c) => allowed.has(c.code));
    } else if (f.op === '=') {
      selected = selected.filter((c) => (c.property ?? []).some((p) => p.code === f.property && String(p.valueCode ?? p.valueString ?? p.valueBoolean) === f.value));
    } else {
      selected = [];
    }
  }
  return selected;
}
