import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CodeSystem, Resource, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';

/** Conformance resource types the loader accepts from profiles/ and terminology/. */
const ACCEPTED = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter', 'CapabilityStatement', 'ConceptMap']);

/**
 * Folders that are not FHIR content: `terminology/access/` holds the DMP
 * profession matrix as plain JSON (access-control work), so it is skipped.
 */
const SKIPPED_DIRS = new Set(['access', 'node_modules']);

/** A conformance resource as loaded, with the file it came from. */
export interface LoadedResource<T extends Resource = Resource> {
  readonly resource: T;
  readonly file: string;
}

/** Everything loaded from the conformance folders, by kind. */
export interface ConformanceContent {
  readonly structureDefinitions: LoadedResource<StructureDefinition>[];
  readonly valueSets: LoadedResource<ValueSet>[];
  readonly codeSystems: LoadedResource<CodeSystem>[];
  readonly searchParameters: LoadedResource<SearchParameter>[];
  readonly others: LoadedResource[];
}

/** Start-up refusal: a file in profiles/ or terminology/ is not usable. Names the file and the problem. */
export class ConformanceLoadError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ConformanceLoadError';
  }
}

/**
 * Reads every `*.json` FHIR conformance resource under the given folders
 * (recursively; `package.json`, `.index.json` and `terminology/access/` are
 * not FHIR and are skipped). A malformed file stops start-up: a server that
 * silently enforced fewer rules than published would be worse than none.
 * Duplicates (same `url|version`, as the vendored packages overlap) keep the
 * first one read.
 * @see https://hl7.org/fhir/R4/profiling.html
 * @see https://hl7.org/fhir/R4/terminologies.html
 */
export function loadConformance(roots: readonly string[]): ConformanceContent {
  const out: ConformanceContent = { structureDefinitions: [], valueSets: [], codeSystems: [], searchParameters: [], others: [] };
  const seen = new Set<string>();
  for (const root of roots) {
    for (const file of jsonFiles(root)) {
      const name = relative(process.cwd(), file);
      const resource = parse(name, readFileSync(file, 'utf8'));
      if (resource === undefined) {
        continue;
      }
      const key = `${resource.resourceType}|${(resource as { url?: string }).url}|${(resource as { version?: string }).version ?? ''}`;
      if (seen.has(key)) {
        continue;
      }
      seen.add(key);
      const loadedResource = { resource, file: name };
      const list = KIND[resource.resourceType] ?? 'others';
      (out[list] as LoadedResource[]).push(loadedResource);
    }
  }
  return out;
}

/** Which list of ConformanceContent each resource type goes to. */
const KIND: Readonly<Record<string, keyof ConformanceContent>> = {
  StructureDefinition: 'structureDefinitions',
  ValueSet: 'valueSets',
  CodeSystem: 'codeSystems',
  SearchParameter: 'searchParameters',
};

function jsonFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    if (statSync(path).isDirectory()) {
      if (!SKIPPED_DIRS.has(n) && !n.startsWith('.')) {
        files.push(...jsonFiles(path));
      }
    } else if (n.endsWith('.json') && n !== 'package.json' && !n.startsWith('.')) {
      files.push(path);
    }
  }
  return files;
}

/** Parses and checks the minimum the server relies on; undefined for files that are not resources (e.g. a manifest). */
function parse(file: string, text: string): Resource | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConformanceLoadError(file, `not valid JSON (${(err as Error).message})`);
  }
  return checkResource(file, json);
}

/** The structural checks of a conformance resource (also applied to inline ValueSets of `$expand`). */
export function checkResource(file: string, json: unknown): Resource | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConformanceLoadError(file, 'not a JSON object');
  }
  const r = json as Record<string, unknown>;
  if (r.resourceType === undefined && file.endsWith('manifest.json')) {
    return undefined;
  }
  if (typeof r.resourceType !== 'string' || !ACCEPTED.has(r.resourceType)) {
    throw new ConformanceLoadError(file, `resourceType ${JSON.stringify(r.resourceType)} is not a conformance resource (${[...ACCEPTED].join(', ')})`);
  }
  if (typeof r.url !== 'string' || !/^(https?|urn):/.test(r.url)) {
    throw new ConformanceLoadError(file, 'has no canonical url');
  }
  if (r.resourceType === 'StructureDefinition') {
    checkStructureDefinition(file, r);
  }
  if (r.resourceType === 'ValueSet') {
    checkValueSet(file, r);
  }
  return r as unknown as Resource;
}

function checkStructureDefinition(file: string, sd: Record<string, unknown>): void {
  if (typeof sd.type !== 'string') {
    throw new ConformanceLoadError(file, 'StructureDefinition has no type');
  }
  const snapshot = (sd.snapshot as { element?: unknown })?.element;
  const differential = (sd.differential as { element?: unknown })?.element;
  if (!Array.isArray(snapshot) && !Array.isArray(differential)) {
    throw new ConformanceLoadError(file, 'StructureDefinition has neither snapshot nor differential elements');
  }
  if (!Array.isArray(snapshot) && typeof sd.baseDefinition !== 'string') {
    throw new ConformanceLoadError(file, 'a differential without baseDefinition cannot be turned into a snapshot');
  }
  for (const [i, e] of [...((snapshot as unknown[]) ?? []), ...((differential as unknown[]) ?? [])].entries()) {
    const el = e as Record<string, unknown>;
    if (typeof el?.path !== 'string' || !(el.path === sd.type || el.path.startsWith(`${sd.type}.`))) {
      throw new ConformanceLoadError(file, `element ${i} has a path that is not under ${sd.type as string}`);
    }
    if (el.max !== undefined && (typeof el.max !== 'string' || !/^(\*|\d+)$/.test(el.max))) {
      throw new ConformanceLoadError(file, `element ${el.path} has an invalid max ${JSON.stringify(el.max)}`);
    }
  }
}

function checkValueSet(file: string, vs: Record<string, unknown>): void {
  const compose = vs.compose as { include?: unknown } | undefined;
  if (compose === undefined) {
    return;
  }
  if (!Array.isArray(compose.include)) {
    throw new ConformanceLoadError(file, 'ValueSet.compose has no include list');
  }
  for (const part of ['include', 'exclude']) {
    const list = (compose as Record<string, unknown>)[part] ?? [];
    if (!Array.isArray(list)) {
      throw new ConformanceLoadError(file, `ValueSet.compose.${part} is not a list`);
    }
    for (const inc of list as Record<string, unknown>[]) {
      const imports = inc?.valueSet;
      if (typeof inc?.system !== 'string' && !(Array.isArray(imports) && imports.every((v) => typeof v === 'string'))) {
        throw new ConformanceLoadError(file, `a ValueSet.compose.${part} names neither a system nor a valueSet`);
      }
      if ((inc.concept !== undefined && !(Array.isArray(inc.concept) && inc.concept.every((c) => typeof c?.code === 'string'))) || (inc.filter !== undefined && !(Array.isArray(inc.filter) && inc.filter.every((f) => typeof f?.op === 'string' && typeof f?.property === 'string')))) {
        throw new ConformanceLoadError(file, `a ValueSet.compose.${part} has a malformed concept or filter list`);
      }
    }
  }
}
