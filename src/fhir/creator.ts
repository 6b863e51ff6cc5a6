import type { Extension, Resource } from '@medplum/fhirtypes';
import { CREATOR_EXTENSION } from '../access/codes';
import { principalKey } from '../access/facts';
import type { Principal } from '../auth/principal';

/**
 * Records the principal that created a resource in a server-owned
 * `meta.extension` (DMP-RULES.md § 3: only the author deletes or replaces;
 * § 4: the author sees their MASQUE_PS documents). A client's own value is
 * never trusted: it is replaced by the previous version's mark, or on create
 * by the caller's.
 * @see https://hl7.org/fhir/R4/resource.html#Meta
 */
export function markCreator(resource: Resource, previous: Resource | undefined, principal: Principal | undefined): Resource {
  const kept = creatorExtension(previous) ?? (previous || !principal ? undefined : { url: CREATOR_EXTENSION, valueIdentifier: principalKey(principal) });
  const others = (resource.meta?.extension ?? []).filter((e) => e.url !== CREATOR_EXTENSION);
  const extension = kept ? [...others, kept] : others;
  const { extension: _old, ...metaRest } = resource.meta ?? {};
  return { ...resource, meta: extension.length > 0 ? { ...metaRest, extension } : metaRest } as Resource;
}

function creatorExtension(r: Resource | undefined): Extension | undefined {
  return r?.meta?.extension?.find((e) => e.url === CREATOR_EXTENSION);
}
