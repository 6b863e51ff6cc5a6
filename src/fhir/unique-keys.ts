import type { Resource } from '@medplum/fhirtypes';
import { INS_SYSTEMS } from '../access/codes';

/**
 * DMP-RULES.md § 1: at most one Patient per INS value. The store enforces the
 * keys returned here (VersionWrite.uniqueKeys), also against concurrent
 * conditional creates in several processes.
 */
export function insUniqueKeys(resource: Resource): string[] {
  if (resource.resourceType !== 'Patient') {
    return [];
  }
  const keys = new Set<string>();
  for (const i of resource.identifier ?? []) {
    if (i.system && i.value && INS_SYSTEMS.includes(i.system)) keys.add(`Patient|${i.system}|${i.value}`);
  }
  return [...keys];
}
