import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import { loadConformance } from './loader';
import { scopeOf } from './references';
import { ProfileRegistry } from './registry';
import { ProfileWalk } from './walk';

export { ConformanceLoadError } from './loader';
export { ProfileRegistry } from './registry';

/** Base of the canonical URLs of the server's own profiles and terminology. */
export const DMP_BASE = 'https://dmp.example/fhir';

/**
 * The DMP profile each resource type is validated against when it names no
 * profile (implicit validation, `VALIDATE_DMP_PROFILES`). Types left out
 * (e.g. Practitioner) are only validated against base R4 and `meta.profile`.
 */
export const DMP_PROFILE_BY_TYPE: Readonly<Record<string, string>> = {
  Patient: `${DMP_BASE}/StructureDefinition/dmp-patient`,
  DocumentReference: `${DMP_BASE}/StructureDefinition/dmp-document-reference`,
  Consent: `${DMP_BASE}/StructureDefinition/dmp-consent`,
  DiagnosticReport: `${DMP_BASE}/StructureDefinition/dmp-lab-diagnostic-report`,
  Observation: `${DMP_BASE}/StructureDefinition/dmp-lab-observation`,
};

/** The project root: the nearest folder above this module with package.json and profiles/ (src/ or dist/src/). */
function projectRoot(): string {
  let dir = __dirname;
  while (!(existsSync(join(dir, 'profiles')) && existsSync(join(dir, 'package.json'))) && dirname(dir) !== dir) {
    dir = dirname(dir);
  }
  return dir;
}

/** Where the conformance content lives. */
export function defaultConformanceRoots(root = projectRoot()): string[] {
  return [join(root, 'profiles'), join(root, 'terminology')];
}

const cache = new Map<string, ProfileRegistry>();

/**
 * Loads profiles/ and terminology/ once per process and set of folders
 * (tests create many apps). Throws ConformanceLoadError naming the file.
 */
export function loadProfileRegistry(roots: readonly string[] = defaultConformanceRoots()): ProfileRegistry {
  const key = roots.join('\n');
  let r = cache.get(key);
  if (!r) {
    r = new ProfileRegistry(loadConformance(roots));
    cache.set(key, r);
  }
  return r;
}

/**
 * Validates a resource against profiles by canonical URL. An unknown profile
 * is a warning (the client asked for something the server cannot check),
 * never silence.
 * @see https://hl7.org/fhir/R4/validation.html#profiles
 */
export function validateAgainstProfiles(registry: ProfileRegistry, resource: Resource, profiles: readonly string[]): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const json = resource as unknown as Record<string, unknown>;
  const scope = scopeOf(json);
  for (const url of new Set(profiles)) {
    const compiled = registry.compile(url);
    if (!compiled) {
      issues.push(issue('not-supported', `Profile ${url} is not known to this server; the resource was not checked against it`, 'meta.profile', 'warning'));
      continue;
    }
    new ProfileWalk(registry, issues, scope).resource(compiled, json, resource.resourceType);
  }
  return issues;
}
