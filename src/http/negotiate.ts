import type { Request } from 'express';
import { errors } from '../fhir/outcomes';

/** The JSON media types a FHIR client may use (the last is the pre-R3 name, still seen in the field). */
const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = new Set([FHIR_JSON, 'application/json', 'application/json+fhir']);
const JSON_FORMATS = new Set(['json', ...JSON_TYPES]);
const XML_FORMATS = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);

const QUERIES = new WeakMap<Request, Request['query']>();

/**
 * `req.query` (the app's 'simple' query parser), parsed once per request:
 * Express 5 parses the query string again at every read of `req.query`.
 */
export function queryOf(req: Request): Request['query'] {
  let query = QUERIES.get(req);
  if (query === undefined) {
    query = req.query;
    QUERIES.set(req, query);
  }
  return query;
}

/** The media type of a Content-Type or Accept member, lower case, without parameters. */
export function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * The Content-Type to answer with, from `_format` (which overrides Accept) or
 * the Accept header. This server speaks JSON only: a request for XML or any
 * other format is 406.
 * @see https://hl7.org/fhir/R4/http.html#mime-type
 */
export function responseType(req: Request): string {
  const requested = queryOf(req)._format;
  const format = typeof requested === 'string' ? requested.trim().toLowerCase() : undefined;
  if (format !== undefined) {
    if (JSON_FORMATS.has(format)) {
      return format === 'application/json' ? 'application/json' : FHIR_JSON;
    }
    throw errors.notAcceptable(
      XML_FORMATS.has(format) ? 'This server supports JSON only; XML is not available' : `Unsupported _format "${format}"`,
    );
  }
  const accept = req.headers.accept;
  if (!accept) {
    return FHIR_JSON;
  }
  const types = accept.split(',').map(mediaType);
  if (types.some((t) => t === FHIR_JSON || t === 'application/json+fhir' || t === '*/*' || t === 'application/*')) {
    return FHIR_JSON;
  }
  if (types.includes('application/json')) {
    return 'application/json';
  }
  throw errors.notAcceptable('This server answers in application/fhir+json only');
}

/** True when a request body's Content-Type is FHIR JSON (or plain JSON). */
export function isJsonContentType(req: Request): boolean {
  return JSON_TYPES.has(mediaType(req.headers['content-type']));
}

/** The `Prefer` header's `return` and `handling` preferences. @see https://hl7.org/fhir/R4/http.html#ops */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  lenient: boolean;
}

export function preferences(req: Request): Preferences {
  const raw = req.headers.prefer;
  const header = Array.isArray(raw) ? raw.join(',') : raw;
  const out: Preferences = { lenient: false };
  if (!header) {
    return out;
  }
  for (const part of header.split(/[,;]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'return' && (v === 'minimal' || v === 'representation' || v === 'OperationOutcome')) {
      out.return = v;
    } else if (k === 'handling') {
      out.lenient = v === 'lenient';
    }
  }
  return out;
}
