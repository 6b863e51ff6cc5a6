import type { Resource } from '@medplum/fhirtypes';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config';
import { buildCapabilityStatement, type SecurityInfo } from './fhir/capability';
import { smartConfiguration } from './auth/smart-configuration';
import { loadDefinitions } from './fhir/definitions';
import { loadAccessMatrix, type AccessMatrix } from './access/matrix';
import { AccessFacts } from './fhir/access-facts';
import { AccessGuard } from './fhir/access-guard';
import { insUniqueKeys } from './fhir/unique-keys';
import { FhirService } from './fhir/service';
import { dmpIndexer } from './fhir/dmp-indexer';
import { createValidator } from './fhir/validation';
import type { Authenticator } from './auth/authenticator';
import { authenticate } from './http/auth';
import { loadProfileRegistry } from './fhir/profiles';
import { withProfiles } from './fhir/profiles/capability-profiles';
import { Conformance } from './fhir/profiles/conformance';
import { errorHandler } from './http/errors';
import { AuditRecorder, type AuditListener } from './audit/recorder';
import { AuditTrail } from './audit/trail';
import { notifierListener } from './audit/notify-bridge';
import { fhirRouter } from './http/routes';
import { ExportJobs } from './fhir/export/jobs';
import type { ResourceStore } from './store/port';
import type { Notifier } from './audit/notify';

const PREWARMED_TYPES = [
  'Patient',
  'Practitioner',
  'Organization',
  'DocumentReference',
  'List',
  'Binary',
  'Observation',
  'DiagnosticReport',
  'Condition',
  'AllergyIntolerance',
  'Immunization',
  'MedicationStatement',
  'MedicationRequest',
  'Consent',
  'AuditEvent',
  'Communication',
] as const;

export interface AppDeps {
  config: Pick<Config, 'baseUrl' | 'maxBodyBytes' | 'defaultPageSize' | 'maxPageSize'> & Partial<Pick<Config, 'bundleMaxEntries' | 'export' | 'binaryMaxBytes'>>;
  store: ResourceStore;
  logger: Logger;
  /** Software version for the CapabilityStatement. */
  version?: string;
  /** The profession matrix (DMP-RULES.md § 6); default: terminology/access/matrix.json. */
  accessMatrix?: AccessMatrix;
  /**
   * Runs the DMP access rules off: every caller reads and writes everything.
   * Only the benchmark's baseline server and the REST-core tests set it; it is
   * deliberately not reachable from configuration or the environment.
   */
  withoutAccessControl?: true;
  /**
   * Access control on, audit trail off: only the benchmark's entry sets it,
   * to measure what the audit costs on its own (issue #6 against #7). Not
   * reachable from configuration or the environment of the real server.
   */
  withoutAudit?: true;
  /**
   * Verifies access tokens. Required unless `withoutAccessControl` is set:
   * a server with access control but no authentication cannot be built.
   */
  authenticator?: Authenticator;
  /** Token issuer and endpoints, for the CapabilityStatement and SMART discovery. */
  security?: SecurityInfo;
  /** Told of every audited interaction once its AuditEvents are durable (the notifier). */
  auditListeners?: readonly AuditListener[];
  /** Tuning (tests): above this many DMPs a médecin traitant's restriction is a join (AccessGuard, GP_LIST_LIMIT). */
  accessListLimit?: number;
  /**
   * Validate DMP resource types against their DMP profile without meta.profile
   * (server.ts passes VALIDATE_DMP_PROFILES, on by default; absent here = off,
   * so apps built by tests for other features accept plain resources).
   */
  validateDmpProfiles?: boolean;
  /** Folders of profiles and terminology (default: ./profiles and ./terminology). */
  conformanceRoots?: string[];
  /** The patient's notifications (DMP-RULES.md § 8 item 13): the audit core calls it after each interaction; server.ts runs its dispatcher. */
  notifier?: Notifier;
}

/**
 * Builds the Express application: middleware in a visible order, the FHIR
 * router, the error handler last. It does not listen (server.ts does), so
 * tests drive it with supertest.
 */
export function createApp(deps: AppDeps): Express {
  if (!deps.authenticator && !deps.withoutAccessControl) {
    throw new Error('createApp needs an authenticator (or withoutAccessControl, for the benchmark baseline and the REST-core tests)');
  }
  loadDefinitions();
  const { config, logger } = deps;
  const conformance = new Conformance(loadProfileRegistry(deps.conformanceRoots), createValidator(), {
    implicit: deps.validateDmpProfiles ?? false,
  });
  const validator = conformance.writeValidator;
  const matrix = deps.accessMatrix ?? loadAccessMatrix();
  const access = new AccessGuard(new AccessFacts(deps.store), matrix, deps.accessListLimit, config.baseUrl);
  // Every version carries the access entries, so that any later search can filter inside its query.
  const indexer = dmpIndexer(config.baseUrl, matrix);
  // Compile the index extraction of the DMP's everyday types now, not on the first request that writes one.
  for (const resourceType of PREWARMED_TYPES) {
    indexer.extract({ resourceType } as Resource);
  }
  // One AuditEvent per interaction, exactly when access control is on (the bench baseline and the REST-core tests run without both).
  const listeners = [...(deps.auditListeners ?? []), ...(deps.notifier ? [notifierListener(deps.notifier)] : [])];
  const recorder = deps.withoutAccessControl || deps.withoutAudit ? undefined : new AuditRecorder(new AuditTrail({ store: deps.store, now: Date.now }), listeners);
  const service = new FhirService({
    store: deps.store,
    validator,
    conformance,
    indexer,
    uniqueKeys: insUniqueKeys,
    access: deps.withoutAccessControl ? undefined : access,
    audit: recorder,
    limits: { defaultCount: config.defaultPageSize, maxCount: config.maxPageSize },
    bundleMaxEntries: config.bundleMaxEntries,
    binaryMaxBytes: config.binaryMaxBytes,
  });
  const capabilityStatement = JSON.stringify(
    withProfiles(
      buildCapabilityStatement({ baseUrl: config.baseUrl, version: deps.version ?? '0.0.0', date: new Date().toISOString(), security: deps.security }),
      conformance,
    ),
  );

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // FHIR ETags are version ids, set explicitly
  app.set('query parser', 'simple');
  app.use(accessLog(logger));
  const smart = JSON.stringify(smartConfiguration(deps.security));
  const sendSmart = (_req: Request, res: Response) => res.type('application/json').send(smart);
  app.get('/.well-known/smart-configuration', sendSmart);
  app.get('/fhir/.well-known/smart-configuration', sendSmart);
  if (deps.authenticator) {
    app.use('/fhir', authenticate(deps.authenticator, recorder && ((r) => recorder.unauthenticated(r)), config.baseUrl));
  }
  // Bulk export jobs and their files (DATA_DIR/exports); without settings, $export says it is not configured.
  const exportJobs = config.export ? new ExportJobs(config.export) : undefined;
  app.locals.exportJobs = exportJobs;
  app.use(
    '/fhir',
    fhirRouter({ service, baseUrl: config.baseUrl, maxBodyBytes: config.maxBodyBytes, binaryMaxBytes: config.binaryMaxBytes, capabilityStatement, exportJobs, maxCount: config.maxPageSize }),
  );
  app.use((_req: Request, res: Response) => {
    res.status(404).type('application/fhir+json; charset=utf-8').send(
      JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'not-found', details: { text: 'Not found: the FHIR endpoint is /fhir' } }],
      }),
    );
  });
  app.use(errorHandler(logger));
  return app;
}

/** One line per request: method, path pattern, status, duration. No query string (it may hold health data). */
function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!logger.isLevelEnabled('info')) {
      next();
      return;
    }
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info({ requestId: res.locals.requestId, method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms }, 'request');
    });
    next();
  };
}
