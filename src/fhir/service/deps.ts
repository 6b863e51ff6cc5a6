import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { ResourceStore } from '../../store/port';
import type { AccessGuard } from '../access-guard';
import type { InteractionAuditor } from '../../audit/recorder';
import type { PageLimits } from '../history';
import type { Conformance } from '../profiles/conformance';
import type { IndexEntry } from '../search/index-entry';

/** What the service needs; built once at start-up (see app.ts). */
export interface ServiceDeps {
  store: ResourceStore;
  /** Base R4 validation (src/fhir/validation). */
  validator: { validate(resource: Resource): OperationOutcomeIssue[] };
  /** Search index entries (src/fhir/search/extract, plus the access entries). */
  indexer: { extract(resource: Resource): IndexEntry[] };
  /** Keys no two live resources may share (one Patient per INS). */
  uniqueKeys?: (resource: Resource) => string[] | undefined;
  /**
   * The DMP access rules. Absent only when createApp is told to run without
   * access control (the benchmark's baseline and the REST-core tests).
   */
  access?: AccessGuard;
  limits: PageLimits;
  /** Profiles, $validate and terminology operations (src/fhir/profiles). */
  conformance?: Conformance;
  /** Clock, in epoch ms (tests may fix it). */
  now?: () => number;
  /**
   * The audit trail (src/audit): one AuditEvent per interaction, durable
   * before the answer. Present exactly when access control is.
   */
  audit?: InteractionAuditor;
  /** Most entries a batch or transaction Bundle may hold (BUNDLE_MAX_ENTRIES; default 1000). */
  bundleMaxEntries?: number;
  /** Largest Binary content in bytes (BINARY_MAX_SIZE; default 100 MB). */
  binaryMaxBytes?: number;
}
