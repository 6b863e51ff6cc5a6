import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Coding, ParametersParameter } from '@medplum/fhirtypes';
import { isStoredResourceType } from '../fhir/definitions';
import { errors } from '../fhir/outcomes';
import { answersFromMemory, CONFORMANCE_TYPES } from '../fhir/profiles/conformance-search';
import { parametersOf, primitiveOf } from '../fhir/profiles/operations';
import type { FhirService } from '../fhir/service';
import { bodyOf, bodyReaders } from './body';
import { queryParams, requestContext } from './request';
import { sendJson } from './respond';

/** `/Type/$op` and `/Type/id/$op`; ids per https://hl7.org/fhir/R4/datatypes.html#id */
const OPERATION_PATH = /^\/([A-Z][A-Za-z]+)(?:\/([A-Za-z0-9\-.]{1,64}))?\/\$([a-z][a-z-]*)$/;

/** Operation inputs: query parameters, and for POST a Parameters body (or, for $validate, the raw resource). */
interface Inputs {
  get(name: string): string | undefined;
  all(name: string): ParametersParameter[];
  resource?: unknown;
}

function inputsOf(req: Request, res: Response): Inputs {
  const query = queryParams(req);
  const body = req.method === 'POST' ? bodyOf(res) : undefined;
  const isParameters = (body as { resourceType?: string } | undefined)?.resourceType === 'Parameters';
  const params = isParameters ? parametersOf(body) : new Map<string, ParametersParameter[]>();
  return {
    get: (name) => primitiveOf(params.get(name)?.[0]) ?? query.find(([k]) => k === name)?.[1],
    all: (name) => params.get(name) ?? [],
    resource: isParameters ? params.get('resource')?.[0]?.resource : body,
  };
}

function integerParam(inputs: Inputs, name: string): number | undefined {
  const raw = inputs.get(name);
  if (raw === undefined) {
    return undefined;
  }
  if (!/^\d{1,9}$/.test(raw)) {
    throw errors.badRequest(`${name} must be a non-negative integer`, name);
  }
  return Number(raw);
}

function codingsOf(inputs: Inputs): Coding[] {
  const code = inputs.get('code');
  if (code !== undefined) {
    return [{ system: inputs.get('system'), code }];
  }
  const coding = inputs.all('coding')[0]?.valueCoding;
  if (coding) {
    return [coding];
  }
  return inputs.all('codeableConcept')[0]?.valueCodeableConcept?.coding ?? [];
}

/**
 * Whether a request may be a read or search of a conformance type (what
 * conformanceRouter answers): GET (or HEAD) with one of those types first.
 */
export function isConformanceRead(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const end = req.path.indexOf('/', 1);
  return CONFORMANCE_TYPES.has(req.path.slice(1, end < 0 ? undefined : end));
}

/**
 * Read and search of the conformance resources loaded from profiles/ and
 * terminology/ (served from memory through FhirService); a read of an id not
 * among them falls through to the store.
 * @see https://hl7.org/fhir/R4/http.html#read
 */
export function conformanceRouter(opts: { service: FhirService; baseUrl: string }): Router {
  const router = Router({ caseSensitive: true });
  router.get('/:type', async (req, res, next) => {
    const type = req.params.type as string;
    const params = queryParams(req);
    // Other searches (no criteria, modifiers, _summary...) go to the store's full search.
    if (!CONFORMANCE_TYPES.has(type) || !answersFromMemory(params)) {
      next();
      return;
    }
    const bundle = await opts.service.searchConformance(requestContext(req, res, opts.baseUrl), type, params);
    sendJson(req, res, 200, JSON.stringify(bundle));
  });
  router.get('/:type/:id', async (req, res, next) => {
    const type = req.params.type as string;
    const found = CONFORMANCE_TYPES.has(type) ? await opts.service.readConformance(requestContext(req, res, opts.baseUrl), type, req.params.id as string) : undefined;
    if (!found) {
      next();
      return;
    }
    sendJson(req, res, 200, JSON.stringify(found));
  });
  return router;
}

/**
 * Routes of the extended operations ($validate, $expand, $validate-code,
 * $lookup, $verify-audit), mounted by routes.ts before the generic `/:type/:id` routes.
 * Each one goes through FhirService. One middleware matching its own path
 * pattern, not a Router of one: every request of the API passes here.
 * @see https://hl7.org/fhir/R4/operations.html
 */
export function operationRouter(opts: { service: FhirService; baseUrl: string; maxBodyBytes: number }): RequestHandler {
  const { service, baseUrl } = opts;
  const body = bodyReaders(opts.maxBodyBytes);
  const operations = (req: Request, res: Response, next: NextFunction): void => {
    const m = OPERATION_PATH.exec(req.path);
    if (!m) {
      next();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      throw errors.methodNotAllowed(`Use GET or POST for $${m[3]}`);
    }
    const run = () => handle(req, res, m[1], m[2], m[3]).catch(next);
    if (req.method === 'POST') {
      body.resource(req, res, (err?: unknown) => (err ? next(err) : run()));
    } else {
      run();
    }
  };

  async function handle(req: Request, res: Response, type: string, id: string | undefined, op: string): Promise<void> {
    if (!isStoredResourceType(type)) {
      throw errors.notFound(`Unknown resource type "${type}"`);
    }
    const ctx = requestContext(req, res, baseUrl);
    const inputs = inputsOf(req, res);
    let result: unknown;
    if (op === 'validate') {
      result = await service.validate(ctx, { type, id, resource: inputs.resource, profile: inputs.get('profile'), mode: inputs.get('mode') });
    } else if (op === 'expand' && type === 'ValueSet') {
      const valueSet = inputs.all('valueSet')[0]?.resource;
      result = await service.expandValueSet(ctx, {
        id,
        url: inputs.get('url'),
        valueSet: valueSet as never,
        filter: inputs.get('filter'),
        count: integerParam(inputs, 'count'),
        offset: integerParam(inputs, 'offset'),
      });
    } else if (op === 'validate-code' && type === 'ValueSet') {
      result = await service.validateCode(ctx, inputs.get('url'), codingsOf(inputs));
    } else if (op === 'verify-audit' && type === 'Patient' && id !== undefined) {
      result = await service.verifyAudit(ctx, id);
    } else if (op === 'lookup' && type === 'CodeSystem') {
      result = await service.lookupCode(ctx, inputs.get('system'), inputs.get('code'));
    } else {
      throw errors.notSupported(`Operation $${op} is not supported on ${type}`);
    }
    sendJson(req, res, 200, JSON.stringify(result));
  }
  return operations;
}
