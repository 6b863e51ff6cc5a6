import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { parseJson, stringifyJson } from '../fhir/json/lossless';
import { informational } from '../fhir/outcomes';
import { etag, type StoredResource } from '../fhir/versioning';
import { endInTurn } from './end-in-turn';
import { preferences, queryOf, responseType } from './negotiate';

/** Sends JSON text with the negotiated FHIR content type. */
export function sendJson(req: Request, res: Response, status: number, json: string): void {
  const type = `${responseType(req)}; charset=utf-8`;
  const body = pretty(req) ? stringifyJson(parseJson(json), 2) : json;
  if (status === 204 || status === 304 || req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined) {
    // Express's send strips these statuses' body and answers conditional GETs with 304 (fresh).
    res.status(status).type(type).send(body);
    return;
  }
  // What res.send does for a string without those cases (no ETag: the app disables it), without
  // parsing back the Content-Type just set; Node's http leaves the body out of HEAD answers.
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  endInTurn(res, status, body);
}

/** `_pretty=true` asks for indented output. @see https://hl7.org/fhir/R4/http.html#general */
function pretty(req: Request): boolean {
  return queryOf(req)._pretty === 'true';
}

export function sendOutcome(req: Request, res: Response, status: number, outcome: OperationOutcome): void {
  sendJson(req, res, status, JSON.stringify(outcome));
}

/** ETag and Last-Modified of a version. @see https://hl7.org/fhir/R4/http.html#versioning */
export function versionHeaders(res: Response, r: Pick<StoredResource, 'versionId' | 'lastUpdated'>): void {
  res.setHeader('ETag', etag(r.versionId));
  res.setHeader('Last-Modified', new Date(r.lastUpdated).toUTCString());
}

/**
 * A read / vread answer, honouring `If-None-Match` (304 when the client's
 * copy is current).
 * @see https://hl7.org/fhir/R4/http.html#cread
 */
export function sendResource(req: Request, res: Response, r: StoredResource): void {
  if (notModified(req, res, r)) return;
  sendJson(req, res, 200, r.json);
}

/** Sets the version headers and answers 304 when `If-None-Match` names the current version (true: answered). */
export function notModified(req: Request, res: Response, r: Pick<StoredResource, 'versionId' | 'lastUpdated'>): boolean {
  versionHeaders(res, r);
  if (ifNoneMatches(req, r)) {
    res.status(304).end();
    return true;
  }
  return false;
}

/** True when the request's `If-None-Match` names this version (weak or strong form). @see https://hl7.org/fhir/R4/http.html#cread */
export function ifNoneMatches(req: Request, r: Pick<StoredResource, 'versionId'>): boolean {
  const inm = req.headers['if-none-match'];
  return !!inm && inm.split(',').some((t) => t.trim() === etag(r.versionId) || t.trim() === `"${r.versionId}"`);
}

/**
 * The answer to create / update / patch: ETag, Last-Modified, Location (on
 * create) and a body chosen by `Prefer: return=`.
 * @see https://hl7.org/fhir/R4/http.html#ops
 */
export function sendWritten(req: Request, res: Response, r: StoredResource, created: boolean, baseUrl: string): void {
  versionHeaders(res, r);
  const status = created ? 201 : 200;
  if (created) {
    res.setHeader('Location', `${baseUrl}/${r.type}/${r.id}/_history/${r.versionId}`);
  }
  switch (preferences(req).return) {
    case 'minimal':
      res.status(status).end();
      return;
    case 'OperationOutcome': {
      // The write's validation warnings (e.g. an unknown meta.profile) travel with the outcome.
      const done = informational(`${created ? 'Created' : 'Updated'} ${r.type}/${r.id} version ${r.versionId}`);
      sendOutcome(req, res, status, { ...done, issue: [...done.issue, ...(r.warnings ?? [])] });
      return;
    }
    default:
      sendJson(req, res, status, r.json);
  }
}
