import { smartScopesAllow, type ScopedAccess } from '../auth/scopes';
import type { Interaction } from './interactions';
import { errors } from './outcomes';

// SMART scopes as FhirService applies them, on top of the DMP rules.
// @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html

/** A system-level search: its types are only known once its `_type` is read (checked there). */
export const SYSTEM_SEARCH = Symbol('system search');

/** What each interaction needs of a token's SMART scopes. */
const SCOPE_NEED: Record<Interaction, ScopedAccess> = {
  read: 'read',
  vread: 'read',
  history: 'read',
  search: 'search',
  create: 'create',
  update: 'update',
  patch: 'update',
  delete: 'delete',
  operation: 'update',
  // A transaction's entries are checked one by one; the Bundle itself needs nothing more.
  transaction: 'read',
};

/** SMART scopes, on top of the DMP rules: 403 when the token's scopes do not grant the interaction on every type. */
export function checkScopes(scopes: readonly string[], interaction: Interaction, types: readonly string[] | typeof SYSTEM_SEARCH): void {
  if (types === SYSTEM_SEARCH) return; // checked by searchSystem once `_type` is read
  const list = types.length > 0 ? types : ['*'];
  for (const t of list) {
    if (!smartScopesAllow(scopes, t, SCOPE_NEED[interaction])) {
      throw errors.forbidden(`The access token's scopes do not allow ${interaction} on ${t === '*' ? 'every type' : t}`);
    }
  }
}

