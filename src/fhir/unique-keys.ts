import type { Resource } from '@medplum/fhirtypes';
import { INS_SYSTEMS } from '../access/codes';

/**
 * DMP-RULES.md § 1: at most one Patient per INS value. The store enforces the
 * keys returned here (VersionWrite.uniqueKeys), also against concurrent
 * conditional creates in several processes.
 */
export function insUniqueKeys(resource: Resource): string[] | undefined {
  if (resource.resourceType !== 'Patient') {
    // No keys at all for other types (undefined, not []): the store has nothing to release for them.
    return undefined;
  }
  const keys = new Set<string>();
  for (const i of resource.identifier ?? []) {
    if (i.system && i.value && INS_SYSTEMS.includes(i.system)) keys.add(`Patient|${i.system}|${i.value}`);
  }
  return [...keys];
}
