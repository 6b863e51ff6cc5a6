import type { Resource } from '@medplum/fhirtypes';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from './config';
import { buildCapabilityStatement } from './fhir/capability';
import { loadDefinitions } from './fhir/definitions';
import { FhirService } from './fhir/service';
import { createIndexer } from './fhir/search/extract';
import { createValidator } from './fhir/validation';
import { loadProfileRegistry } from './fhir/profiles';
import { withProfiles } from './fhir/profiles/capability-profiles';
import { Conformance } from './fhir/profiles/conformance';
import { errorHandler } from './http/errors';
import { fhirRouter } from './http/routes';
import type { ResourceStore } from './store/port';

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
  config: Pick<Config, 'baseUrl' | 'maxBodyBytes' | 'defaultPageSize' | 'maxPageSize'>;
  store: ResourceStore;
  logger: Logger;
  /** Software version for the CapabilityStatement. */
  version?: string;
  /**
   * Validate DMP resource types against their DMP profile without meta.profile
   * (server.ts passes VALIDATE_DMP_PROFILES, on by default; absent here = off,
   * so apps built by tests for other features accept plain resources).
   */
  validateDmpProfiles?: boolean;
  /** Folders of profiles and terminology (default: ./profiles and ./terminology). */
  conformanceRoots?: string[];
}

/**
 * Builds the Express application: middleware in a visible order, the FHIR
 * router, the error handler last. It does not listen (server.ts does), so
 * tests drive it with supertest.
 */
export function createApp(deps: AppDeps): Express {
  loadDefinitions();
  const { config, logger } = deps;
  const conformance = new Conformance(loadProfileRegistry(deps.conformanceRoots), createValidator(), {
    implicit: deps.validateDmpProfiles ?? false,
  });
  const validator = conformance.writeValidator;
  const indexer = createIndexer({ baseUrl: config.baseUrl });
  // Compile the index extraction of the DMP's everyday types now, not on the first request that writes one.
  for (const resourceType of PREWARMED_TYPES) {
    indexer.extract({ resourceType } as Resource);
  }
  const service = new FhirService({
    store: deps.store,
    validator,
    conformance,
    indexer,
    limits: { defaultCount: config.defaultPageSize, maxCount: config.maxPageSize },
  });
  const capabilityStatement = JSON.stringify(
    withProfiles(buildCapabilityStatement({ baseUrl: config.baseUrl, version: deps.version ?? '0.0.0', date: new Date().toISOString() }), conformance),
  );

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // FHIR ETags are version ids, set explicitly
  app.set('query parser', 'simple');
  app.use(accessLog(logger));
  app.use('/fhir', fhirRouter({ service, baseUrl: config.baseUrl, maxBodyBytes: config.maxBodyBytes, capabilityStatement }));
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
