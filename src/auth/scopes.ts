/**
 * SMART on FHIR scopes, enforced on top of the DMP rules (DMP-RULES.md § 7):
 * a token carrying resource scopes may do only what they grant; the DMP
 * rules still decide what it sees. A token with no resource scope at all
 * (e.g. a client-credentials token of a system that is not a SMART app) is
 * not restricted by scopes (**project rule**).
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
export type ScopedAccess = 'read' | 'search' | 'create' | 'update' | 'delete';

/** v2 permission letters. */
const V2_LETTER: Record<ScopedAccess, string> = { create: 'c', read: 'r', update: 'u', delete: 'd', search: 's' };

const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(\?.*)?$/;

/** Whether `scopes` let the token do `access` on `resourceType`. */
export function smartScopesAllow(scopes: readonly string[], resourceType: string, access: ScopedAccess): boolean {
  const parsed = scopes.map((s) => RESOURCE_SCOPE.exec(s)).filter((m): m is RegExpExecArray => m !== null);
  if (parsed.length === 0) {
    return true;
  }
  return parsed.some(([, , type, perms, query]) => {
    if (type !== '*' && type !== resourceType) return false;
    // A v2 scope with a query (`?category=...`) grants only what the query selects: not supported, so it grants nothing.
    if (query) return false;
    return grants(perms, access);
  });
}

/** v1 (`read`, `write`, `*`) or v2 (`cruds` letters, in that order) permissions. */
function grants(perms: string, access: ScopedAccess): boolean {
  switch (perms) {
    case '*':
      return true;
    case 'read':
      return access === 'read' || access === 'search';
    case 'write':
      return access === 'create' || access === 'update' || access === 'delete';
    default:
      return /^c?r?u?d?s?$/.test(perms) && perms.includes(V2_LETTER[access]);
  }
}

/** The scopes this server understands, for `/.well-known/smart-configuration`. */
export const SCOPES_SUPPORTED = ['openid', 'fhirUser', 'patient/*.rs', 'user/*.cruds', 'system/*.cruds', 'patient/*.read', 'user/*.*', 'system/*.*'];
