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

const DMP_PROFILE = (id: string) => `${DMP_BASE}/StructureDefinition/${id}`;

/** True when a CodeableConcept list holds the code (any system). */
function hasCode(concepts: unknown, code: string): boolean {
  const list = Array.isArray(concepts) ? concepts : concepts ? [concepts] : [];
  return list.some((c: { coding?: { code?: string }[] }) => Array.isArray(c?.coding) && c.coding.some((x) => x?.code === code));
}

/**
 * The DMP profile a resource is validated against when it names none
 * (implicit validation, `VALIDATE_DMP_PROFILES`): Patient, DocumentReference
 * and Consent always; a List only when it is a SubmissionSet; Observation and
 * DiagnosticReport only when they are laboratory results (vital signs are
 * not lab results). Other types (Practitioner, Condition...): base R4 and
 * meta.profile only. (The provide-document Bundle and AuditEvent profiles
 * apply when named: Bundles are not stored whole, AuditEvents are written by
 * the server.)
 */
export function implicitDmpProfile(resource: { resourceType: string; category?: unknown; code?: unknown }): string | undefined {
  switch (resource.resourceType) {
    case 'Patient':
      return DMP_PROFILE('dmp-patient');
    case 'DocumentReference':
      return DMP_PROFILE('dmp-document-reference');
    case 'Consent':
      return DMP_PROFILE('dmp-consent');
    case 'List':
      return hasCode(resource.code, 'submissionset') ? DMP_PROFILE('dmp-submissionset') : undefined;
    case 'Observation':
      return hasCode(resource.category, 'laboratory') ? DMP_PROFILE('dmp-lab-observation') : undefined;
    case 'DiagnosticReport':
      return hasCode(resource.category, 'LAB') ? DMP_PROFILE('dmp-lab-diagnostic-report') : undefined;
    default:
      return undefined;
  }
}

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
