import { Router, type Request, type Response } from 'express';
import type { Operation } from 'rfc6902';
import { fhirPathPatchOperations } from '../fhir/fhirpath-patch';
import type { FhirService } from '../fhir/service';
import { errors, informational } from '../fhir/outcomes';
import { parseJsonPatch } from '../fhir/patch';
import { etag } from '../fhir/versioning';
import { bodyOf, bodyReaders } from './body';
import { binaryRoutes, isBinaryPath } from './binary-routes';
import { conformanceRouter, isConformanceRead, operationRouter } from './operation-routes';
import { isRecordLifePath, recordLifeRoutes } from './record-routes';
import { exportRoutes, isExportPath } from './export-routes';
import { onlyWhen, routeGroup } from './route-groups';
import type { ExportJobs } from '../fhir/export/jobs';
import { mediaType, preferences } from './negotiate';
import { criteria, ifMatch, ifNoneExist, queryParams, requestContext, resourceType } from './request';
import { sendJson, sendOutcome, sendResource, sendWritten } from './respond';

export interface RouterOptions {
  service: FhirService;
  baseUrl: string;
  maxBodyBytes: number;
  /** The CapabilityStatement JSON, built once at start-up. */
  capabilityStatement: string;
  /** Bulk Data export jobs (absent: `$export` answers that it is not configured). */
  exportJobs?: ExportJobs;
  /** Largest page (`_typeFilter` parsing). */
  maxCount?: number;
  /** Largest Binary content (BINARY_MAX_SIZE); default 100 MB. */
  binaryMaxBytes?: number;
}

/**
 * The FHIR REST API, mounted at /fhir. Handlers are thin: read the request,
 * call FhirService with the request context, send the answer.
 * @see https://hl7.org/fhir/R4/http.html
 */
export function fhirRouter(opts: RouterOptions): Router {
  const { service, baseUrl } = opts;
  const body = bodyReaders(opts.maxBodyBytes);
  const router = Router({ caseSensitive: true, strict: false });
  const ctx = (req: Request, res: Response) => requestContext(req, res, baseUrl);
  const notAllowed = (what: string) => () => {
    throw errors.methodNotAllowed(`${what}`);
  };

  router.get('/metadata', (req, res) => sendJson(req, res, 200, opts.capabilityStatement));
  router.all('/metadata', notAllowed('Only GET is allowed on /metadata'));
  // Extended operations ($validate, $expand...) before the generic /:type/:id routes.
  // The DMP record operations first: the generic operation router answers 'not supported' to the others.
  // Each group of special routes sits behind one test of the path (route-groups.ts): the others never try them.
  router.use(routeGroup(isRecordLifePath, (g) => recordLifeRoutes(g, service, body, ctx, baseUrl)));
  router.use(routeGroup(isExportPath, (g) => exportRoutes(g, { service, jobs: opts.exportJobs, baseUrl, maxCount: opts.maxCount ?? 1000, ctx })));
  // Binary in its native form (raw bytes, Range) before the generic routes; FHIR JSON falls through to them.
  router.use(routeGroup(isBinaryPath, (g) => binaryRoutes(g, { service, baseUrl, ctx, binaryMaxBytes: opts.binaryMaxBytes ?? 100 * 1024 * 1024 })));
  router.use(operationRouter({ service, baseUrl, maxBodyBytes: opts.maxBodyBytes }));
  router.use(onlyWhen(isConformanceRead, conformanceRouter({ service, baseUrl })));

  // System level
  router.get('/_history', async (req, res) => {
    sendJson(req, res, 200, await service.history(ctx(req, res), {}, queryParams(req), preferences(req).lenient));
  });
  router.all('/_history', notAllowed('Only GET is allowed on /_history'));
  router.get('/', async (req, res) => {
    sendJson(req, res, 200, await service.searchSystem(ctx(req, res), queryParams(req), { lenient: preferences(req).lenient }));
  });
  // Batch and transaction Bundles. @see https://hl7.org/fhir/R4/http.html#transaction
  router.post('/', body.resource, async (req, res) => {
    sendJson(req, res, 200, await service.bundle(ctx(req, res), bodyOf(res), preferences(req).return));
  });
  router.all('/', notAllowed('Only GET (search) and POST (batch or transaction Bundle) are allowed on the base URL'));

  // Type level
  router.get('/:type/_history', async (req, res) => {
    const type = resourceType(req);
    sendJson(req, res, 200, await service.history(ctx(req, res), { type }, queryParams(req), preferences(req).lenient));
  });
  router.all('/:type/_history', notAllowed('Only GET is allowed on type history'));
  router.post('/:type/_search', body.form, async (req, res) => {
    const type = resourceType(req);
    const params = [...queryParams(req), ...(bodyOf(res) as [string, string][])];
    sendJson(req, res, 200, await service.searchTypes(ctx(req, res), [type], params, { lenient: preferences(req).lenient, path: type }));
  });
  router.all('/:type/_search', notAllowed('Use POST for _search, or GET on the type'));
  router.get('/:type', async (req, res) => {
    const type = resourceType(req);
    const params = queryParams(req);
    sendJson(req, res, 200, await service.searchTypes(ctx(req, res), [type], params, { lenient: preferences(req).lenient, path: type }));
  });
  router.post('/:type', typeFirst, body.resource, async (req, res) => {
    const type = resourceType(req);
    const result = await service.create(ctx(req, res), type, bodyOf(res), { ifNoneExist: ifNoneExist(req) });
    sendWritten(req, res, result.resource, result.created, baseUrl);
  });
  router.put('/:type', typeFirst, body.resource, async (req, res) => {
    const type = resourceType(req);
    const result = await service.conditionalUpdate(ctx(req, res), type, criteria(queryParams(req)), bodyOf(res), { ifMatch: ifMatch(req) });
    sendWritten(req, res, result.resource, result.created, baseUrl);
  });
  router.patch('/:type', typeFirst, body.jsonPatch, async (req, res) => {
    const type = resourceType(req);
    const ops = patchOperations(req, bodyOf(res), type);
    const result = await service.conditionalPatch(ctx(req, res), type, criteria(queryParams(req)), ops, { ifMatch: ifMatch(req) });
    sendWritten(req, res, result.resource, false, baseUrl);
  });
  router.delete('/:type', async (req, res) => {
    const type = resourceType(req);
    const result = await service.conditionalDelete(ctx(req, res), type, criteria(queryParams(req)));
    sendDeleted(req, res, result.versionId, result.deleted ? 'Deleted' : 'No resource matched; nothing was deleted');
  });
  router.all('/:type', (req) => {
    resourceType(req);
    throw errors.methodNotAllowed(`${req.method} is not allowed on a resource type`);
  });

  // Instance level
  router.get('/:type/:id/_history/:vid', async (req, res) => {
    const type = resourceType(req);
    sendResource(req, res, await service.vread(ctx(req, res), type, req.params.id as string, req.params.vid as string));
  });
  router.all('/:type/:id/_history/:vid', notAllowed('Only GET is allowed on a version'));
  router.get('/:type/:id/_history', async (req, res) => {
    const type = resourceType(req);
    const id = req.params.id as string;
    sendJson(req, res, 200, await service.history(ctx(req, res), { type, id }, queryParams(req), preferences(req).lenient));
  });
  router.all('/:type/:id/_history', notAllowed('Only GET is allowed on instance history'));
  router.get('/:type/:id', async (req, res) => {
    const type = resourceType(req);
    sendResource(req, res, await service.read(ctx(req, res), type, req.params.id as string));
  });
  router.put('/:type/:id', typeFirst, body.resource, async (req, res) => {
    const type = resourceType(req);
    const result = await service.update(ctx(req, res), type, req.params.id as string, bodyOf(res), { ifMatch: ifMatch(req) });
    sendWritten(req, res, result.resource, result.created, baseUrl);
  });
  router.patch('/:type/:id', typeFirst, body.jsonPatch, async (req, res) => {
    const type = resourceType(req);
    const ops = patchOperations(req, bodyOf(res), type);
    const result = await service.patch(ctx(req, res), type, req.params.id as string, ops, { ifMatch: ifMatch(req) });
    sendWritten(req, res, result.resource, false, baseUrl);
  });
  router.delete('/:type/:id', async (req, res) => {
    const type = resourceType(req);
    const result = await service.delete(ctx(req, res), type, req.params.id as string, { ifMatch: ifMatch(req) });
    sendDeleted(req, res, result.versionId, result.deleted ? `Deleted ${type}/${req.params.id}` : 'Already deleted');
  });
  router.all('/:type/:id', (req) => {
    resourceType(req);
    throw errors.methodNotAllowed(`${req.method} is not allowed on a resource`);
  });

  router.use(() => {
    throw errors.notFound('No such FHIR endpoint');
  });
  return router;
}

/** An unknown type is 404 before the body is even read. */
function typeFirst(req: Request, _res: Response, next: () => void): void {
  resourceType(req);
  next();
}

/**
 * Delete answers 200 with an OperationOutcome (and the tombstone's ETag when
 * there is one).
 * @see https://hl7.org/fhir/R4/http.html#delete
 */
function sendDeleted(req: Request, res: Response, versionId: number | undefined, text: string): void {
  if (versionId !== undefined) {
    res.setHeader('ETag', etag(versionId));
  }
  sendOutcome(req, res, 200, informational(text));
}

/**
 * The operations of a PATCH body: JSON Patch (`application/json-patch+json`),
 * or FHIRPath Patch, a Parameters resource in FHIR JSON, of the simple kind
 * fhirpath-patch.ts translates (the IHE MHD and PDSm patches: `replace` and
 * `delete` of `Type.element[i]`), so both forms go through one patch engine
 * and the same document rules.
 * @see https://hl7.org/fhir/R4/http.html#patch
 * @see https://hl7.org/fhir/R4/fhirpatch.html
 */
function patchOperations(req: Request, body: unknown, type: string): Operation[] {
  return mediaType(req.headers['content-type']) === 'application/json-patch+json' ? parseJsonPatch(body) : fhirPathPatchOperations(body, type);
}
