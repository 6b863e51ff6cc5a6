import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { parseJson as parseLossless } from '../fhir/json/lossless';
import { errors } from '../fhir/outcomes';
import { isJsonContentType, mediaType } from './negotiate';

/**
 * Request bodies are read raw (with the size limit enforced while reading, so
 * an oversized body is refused with 413 without being buffered whole) and
 * parsed here, so that every failure becomes an OperationOutcome.
 */
export interface BodyReaders {
  /** A FHIR resource (application/fhir+json or application/json). */
  resource: RequestHandler;
  /** A JSON Patch document (application/json-patch+json). */
  jsonPatch: RequestHandler;
  /** An operation's optional input: a Parameters resource, or no body at all (undefined). */
  parameters: RequestHandler;
  /** Search parameters in a form body (application/x-www-form-urlencoded), for POST _search. */
  form: RequestHandler;
}

/** The parsed body left by a reader on `res.locals`. */
export function bodyOf(res: Response): unknown {
  return res.locals.body;
}

function readRaw(maxBytes: number): RequestHandler {
  return express.raw({ type: () => true, limit: maxBytes });
}

function parseJson(buf: unknown): unknown {
  const text = Buffer.isBuffer(buf) ? buf.toString('utf8') : '';
  if (text.trim() === '') {
    throw errors.badRequest('The request body is empty');
  }
  try {
    // Lossless: a decimal sent as 1.50 keeps its text (fhir/json/lexemes.ts).
    return parseLossless(text);
  } catch {
    // The parser's message may quote the body: keep it out of the response.
    throw errors.badRequest('The request body is not valid JSON');
  }
}

function reader(maxBytes: number, accepts: (req: Request) => boolean, expected: string, parse: (buf: unknown) => unknown): RequestHandler {
  const raw = readRaw(maxBytes);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!accepts(req)) {
      const got = mediaType(req.headers['content-type']) || 'none';
      next(errors.unsupportedMediaType(`Content-Type must be ${expected} (got ${got})`));
      return;
    }
    raw(req, res, (err?: unknown) => {
      if (err) {
        next(err);
        return;
      }
      try {
        res.locals.body = parse(req.body);
        next();
      } catch (e) {
        next(e);
      }
    });
  };
}

/** Body readers enforcing `maxBytes` (MAX_BODY_SIZE). */
export function bodyReaders(maxBytes: number): BodyReaders {
  return {
    resource: reader(maxBytes, isJsonContentType, 'application/fhir+json', parseJson),
    jsonPatch: reader(
      maxBytes,
      // JSON Patch, or a FHIRPath Patch (a Parameters resource in FHIR JSON): see patchOperations.
      (req) => mediaType(req.headers['content-type']) === 'application/json-patch+json' || isJsonContentType(req),
      'application/json-patch+json (JSON Patch) or application/fhir+json (FHIRPath Patch)',
      parseJson,
    ),
    parameters: reader(
      maxBytes,
      (req) => !req.headers['content-type'] || isJsonContentType(req),
      'application/fhir+json',
      (buf) => (Buffer.isBuffer(buf) && buf.length > 0 ? parseJson(buf) : undefined),
    ),
    form: reader(
      maxBytes,
      (req) => mediaType(req.headers['content-type']) === 'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
      (buf) => [...new URLSearchParams(Buffer.isBuffer(buf) ? buf.toString('utf8') : '')],
    ),
  };
}
