import { pipeline } from 'node:stream/promises';
import type { NextFunction, Request, Response, Router } from 'express';
import type { RequestContext } from '../fhir/context';
import { tooLarge } from '../fhir/binary/content-ref';
import type { BinaryRead } from '../fhir/binary/binary-read';
import type { BinaryBytesRequest, FhirService, RawBinary } from '../fhir/service';
import { mediaType } from './negotiate';
import { ifMatch } from './request';
import { ifNoneMatches, notModified, sendWritten } from './respond';

/** The FHIR JSON media types: a Binary sent or asked for as a resource (base64 `data`); any other type is its bytes. */
const FHIR_RESOURCE_TYPES = new Set(['application/fhir+json', 'application/json+fhir']);

export interface BinaryRouteOptions {
  service: FhirService;
  baseUrl: string;
  binaryMaxBytes: number;
  ctx: (req: Request, res: Response) => RequestContext;
}

/** Whether a path may be one of binaryRoutes' (`Binary`, `Binary/{id}` and its versions). */
export function isBinaryPath(req: Request): boolean {
  return req.path.startsWith('/Binary');
}

/**
 * Binary in its native form: `POST/PUT Binary` with raw bytes of any
 * Content-Type (streamed to the store, never buffered whole), and
 * `GET Binary/{id}` (and vread) answering the bytes with the stored
 * Content-Type, with single `Range` requests. A FHIR JSON body, or a read
 * that asks for FHIR JSON (`Accept` or `_format`), goes on to the generic
 * routes / gets the resource with base64 `data`.
 * @see https://hl7.org/fhir/R4/binary.html#rest
 * @see https://profiles.ihe.net/ITI/MHD/ITI-68.html
 */
export function binaryRoutes(router: Router, opts: BinaryRouteOptions): void {
  const { service, baseUrl, ctx } = opts;
  // `Binary/_history`, `Binary/$op`...: not an id, for the generic routes.
  const isId = (req: Request) => /^[A-Za-z0-9\-.]{1,64}$/.test(req.params.id as string);
  router.post('/Binary', async (req, res, next) => {
    if (isResourceBody(req)) return next();
    const result = await service.createBinary(ctx(req, res), rawBinary(req, opts.binaryMaxBytes));
    sendWritten(req, res, result.resource, result.created, baseUrl);
  });
  router.put('/Binary/:id', async (req, res, next) => {
    if (isResourceBody(req) || !isId(req)) return next();
    const result = await service.updateBinary(ctx(req, res), req.params.id as string, rawBinary(req, opts.binaryMaxBytes), { ifMatch: ifMatch(req) });
    sendWritten(req, res, result.resource, result.created, baseUrl);
  });
  router.get('/Binary/:id', (req, res, next) => (!isId(req) ? next() : sendBinary(req, res, next, (bytes) => service.readBinary(ctx(req, res), req.params.id as string, undefined, bytes))));
  router.get('/Binary/:id/_history/:vid', (req, res, next) =>
    !isId(req) ? next() : sendBinary(req, res, next, (bytes) => service.readBinary(ctx(req, res), req.params.id as string, req.params.vid as string, bytes)),
  );
}

function isResourceBody(req: Request): boolean {
  return FHIR_RESOURCE_TYPES.has(mediaType(req.headers['content-type']));
}

/** The raw upload; a declared Content-Length over the limit is refused before any byte is read. */
function rawBinary(req: Request, maxBytes: number): RawBinary {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const securityContext = req.headers['x-security-context'];
  return {
    contentType: (req.headers['content-type'] ?? '').trim() || 'application/octet-stream',
    securityContext: typeof securityContext === 'string' && securityContext.trim() ? securityContext.trim() : undefined,
    body: req,
  };
}

/** True when the reader asks for the Binary as a FHIR resource rather than its bytes. */
function wantsResource(req: Request): boolean {
  const format = typeof req.query._format === 'string' ? req.query._format.trim().toLowerCase() : undefined;
  if (format !== undefined) return format === 'json' || FHIR_RESOURCE_TYPES.has(format) || format === 'application/json';
  return (req.headers.accept ?? '').split(',').some((t) => FHIR_RESOURCE_TYPES.has(mediaType(t)));
}

/**
 * Answers a Binary read, once FhirService decided and audited it: the bytes
 * (200, or 206 for a satisfiable `Range`, 416 otherwise), or the resource.
 */
async function sendBinary(req: Request, res: Response, next: NextFunction, read: (bytes: BinaryBytesRequest) => Promise<BinaryRead>): Promise<void> {
  const asResource = wantsResource(req);
  // The service resolves the Range (a 416 is refused and audited there), unless the answer will be a 304.
  const b = await read({ range: asResource ? undefined : req.headers.range, notModified: (r) => ifNoneMatches(req, r) });
  if (notModified(req, res, b.resource)) return;
  // User content: never sniffed or run as a page of this origin.
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (asResource) {
    res.status(200).type('application/fhir+json; charset=utf-8');
    return stream(res, next, await b.json());
  }
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', b.contentType);
  const range = b.range;
  if (range) {
    res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end - 1}/${b.size}`);
    res.setHeader('Content-Length', String(range.end - range.start));
    return stream(res, next, await b.open(range));
  }
  res.status(200).setHeader('Content-Length', String(b.size));
  return stream(res, next, await b.open());
}

/** Pipes the body; a failure once bytes are sent can only cut the connection (the client sees a short body). */
async function stream(res: Response, next: NextFunction, body: NodeJS.ReadableStream): Promise<void> {
  try {
    await pipeline(body, res);
  } catch (err) {
    if (!res.headersSent) return next(err);
    res.destroy();
  }
}
