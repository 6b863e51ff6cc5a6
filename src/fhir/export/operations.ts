import { DIRECTORY_TYPES } from '../../access/facets';
import { decideExport, nonClinicalTypes, type ExportLevel } from '../../access/export';
import { smartScopesAllow } from '../../auth/scopes';
import type { AuditTrace } from '../../audit/trace';
import type { ResourceStore, VersionRecord } from '../../store/port';
import type { AccessGuard } from '../access-guard';
import type { RequestContext } from '../context';
import { loadDefinitions } from '../definitions';
import type { PageLimits } from '../history';
import { errors } from '../outcomes';
import { compartmentTypes } from './compartment';
import { everythingBundle } from './everything';
import { parseEverythingParams, type ExportParams } from './params';
import { patientSource, typesSource, type ExportSource } from './sources';

/**
 * What FhirService lends the two operations for one interaction, from
 * inside its `perform` (one access decision, one AuditEvent): the store,
 * the access rules, and its own checks.
 */
export interface OperationDoor {
  store: ResourceStore;
  access?: AccessGuard;
  limits: PageLimits;
  ctx: RequestContext;
  trace: AuditTrace;
  /** 404 (unknown or hidden) or 410 (deleted) unless the caller may see Patient/{id}; 403 without a right to the DMP. */
  checkPatient(id: string): Promise<void>;
  /** The resources an interaction returned, for its AuditEvent. */
  observe(versions: readonly VersionRecord[]): void;
}

/** A Bulk Data kick-off, as the HTTP layer read it. */
export interface ExportRequest {
  level: ExportLevel;
  patientId?: string;
  groupId?: string;
  params: ExportParams;
  /** The kick-off URL, echoed in the manifest's `request`. */
  url: string;
}

/**
 * `Patient/{id}/$everything`: the caller must have a right to the DMP (a
 * search scoped to the patient: 403 otherwise, 404 for an unknown patient);
 * what the compartment holds is then restricted inside each query exactly
 * like a search (hidden documents absent, `total` agreeing).
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 */
export async function runEverything(door: OperationDoor, patientId: string, params: [string, string][], lenient: boolean): Promise<string> {
  const q = parseEverythingParams(params, door.limits, lenient);
  const allowed = scopesAllow(door);
  refuseUnscoped(q.types, allowed);
  const restriction = await patientRestrictions(door, patientId);
  return everythingBundle({ store: door.store, patientId, params: q, allowed, ...restriction, baseUrl: door.ctx.baseUrl, observe: (v) => door.observe(v) });
}

/**
 * The decision on a kick-off (src/access/export.ts: DMP-RULES.md § 5, bulk
 * export) and the source the job will read, restricted as the caller's
 * searches are. Without access control (the benchmark's baseline), the
 * system and patient levels export what they name, unrestricted.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 */
export async function prepareExport(door: OperationDoor, req: ExportRequest): Promise<ExportSource> {
  const { access, ctx } = door;
  if (access) {
    if (!ctx.principal) throw errors.unauthorized();
    const d = decideExport(ctx.principal, { level: req.level, patientId: req.patientId, types: req.params.types });
    if (d.effect !== 'allow') throw errors.forbidden(`Bulk export refused (${d.reason}): only the patient and the legal representatives export a DMP (Patient/{id}/$export); the administrator exports directory and conformance resources only ($export)`);
  }
  const allowed = scopesAllow(door);
  refuseUnscoped(req.params.types, allowed);
  if (req.level === 'patient' && req.patientId) {
    const id = req.patientId;
    const known = new Set([...compartmentTypes(), ...DIRECTORY_TYPES]);
    const outside = (req.params.types ?? []).filter((t) => !known.has(t));
    if (outside.length > 0) throw errors.badRequest(`_type names types outside the Patient compartment and the directory: ${outside.join(', ')}`, '_type');
    return patientSource(door.store, id, req.params, allowed, await patientRestrictions(door, id));
  }
  if (req.level !== 'system') {
    throw errors.notSupported('Patient/$export and Group/{id}/$export are not served: use Patient/{id}/$export');
  }
  const stored = loadDefinitions().resourceTypes;
  const types = (req.params.types ?? (access ? nonClinicalTypes(stored) : [...stored])).filter(allowed);
  for (const t of req.params.typeFilters.keys()) {
    if (!types.includes(t)) throw errors.badRequest(`_typeFilter names ${t}, which this export does not include`, '_typeFilter');
  }
  door.trace.level = 'system';
  const restriction = access ? await access.searchRestriction(ctx, types, []) : undefined;
  return typesSource(door.store, types, req.params, restriction);
}

/** The caller's restrictions in one DMP (403 without a right to it) and over the directory. */
async function patientRestrictions(door: OperationDoor, patientId: string) {
  const { access, ctx, trace } = door;
  trace.level = 'instance';
  trace.touchRef('Patient', patientId, [patientId]);
  await door.checkPatient(patientId);
  if (!access) return {};
  const compartment = await access.searchRestriction(ctx, compartmentTypes(), [['patient', patientId]], (ids) => ids.forEach((p) => trace.patient(p)));
  const directory = await access.searchRestriction(ctx, [...DIRECTORY_TYPES], []);
  return { compartment, directory };
}

/** SMART scopes on top of the DMP rules: the types the token may search. */
function scopesAllow(door: OperationDoor): (type: string) => boolean {
  const p = door.ctx.principal;
  return (type) => !door.access || !p || smartScopesAllow(p.scopes, type, 'search');
}

function refuseUnscoped(types: readonly string[] | undefined, allowed: (t: string) => boolean): void {
  const refused = (types ?? []).filter((t) => !allowed(t));
  if (refused.length > 0) throw errors.forbidden(`The access token's scopes do not allow search on ${refused.join(', ')}`);
}
