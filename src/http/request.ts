import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import type { RequestContext } from '../fhir/context';
import { isStoredResourceType } from '../fhir/definitions';
import { errors } from '../fhir/outcomes';
import { FORMAT_PARAMETERS } from '../fhir/format-params';

const REQUEST_ID_RE = /^[A-Za-z0-9\-_.]{1,64}$/;

/**
 * The request context, built once per request (see fhir/context.ts). A
 * well-formed `X-Request-Id` from the client is kept so that logs can be
 * correlated across systems; otherwise one is made.
 */
export function requestContext(req: Request, res: Response, baseUrl: string): RequestContext {
  let requestId = res.locals.requestId as string | undefined;
  if (!requestId) {
    const given = req.headers['x-request-id'];
    requestId = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : crypto.randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
  }
  return { requestId, baseUrl, principal: res.locals.principal };
}

/** The resource type named in the URL; an unknown one is 404. */
export function resourceType(req: Request): string {
  const type = req.params.type as string;
  if (!isStoredResourceType(type)) {
    throw errors.notFound(`Unknown resource type "${type}"`);
  }
  return type;
}

/** The query string's parameters, in order, repeats kept. */
export function queryParams(req: Request): [string, string][] {
  const q = req.originalUrl.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(req.originalUrl.slice(q + 1))];
}

/** Search criteria of a conditional interaction (the query minus _format / _pretty). */
export function criteria(params: [string, string][]): [string, string][] {
  return params.filter(([k]) => !FORMAT_PARAMETERS.has(k));
}

/**
 * `If-Match: W/"3"` (or `"3"`) as a version number; absent is undefined,
 * anything else is 400.
 * @see https://hl7.org/fhir/R4/http.html#concurrency
 */
export function ifMatch(req: Request): number | undefined {
  const h = req.headers['if-match'];
  if (h === undefined) {
    return undefined;
  }
  const m = /^\s*(?:W\/)?"(\d{1,10})"\s*$/.exec(h);
  if (!m) {
    throw errors.badRequest('If-Match must be a version ETag such as W/"3"');
  }
  return Number(m[1]);
}

/** `If-None-Exist: identifier=...` as search criteria. @see https://hl7.org/fhir/R4/http.html#ccreate */
export function ifNoneExist(req: Request): [string, string][] | undefined {
  const h = req.headers['if-none-exist'];
  if (typeof h !== 'string') {
    return undefined;
  }
  const params = criteria([...new URLSearchParams(h.trim().replace(/^[^?]*\?/, ''))]);
  if (params.length === 0) {
    throw errors.badRequest('If-None-Exist must hold search criteria, e.g. identifier=system|value');
  }
  return params;
}
