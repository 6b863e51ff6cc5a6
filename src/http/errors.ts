import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from 'pino';
import { errors, FhirError } from '../fhir/outcomes';
import { sendOutcome } from './respond';

/** Errors raised by Express / body-parser carry an HTTP status and a type. */
interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
}

/** Maps what Express itself refuses (body too large, bad encoding, undecodable URL) to FHIR errors. */
function fromExpress(err: HttpishError): FhirError | undefined {
  const status = err.status ?? err.statusCode;
  if (err.type === 'entity.too.large' || status === 413) {
    return errors.payloadTooLarge('The request body is larger than this server accepts');
  }
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported' || status === 415) {
    return errors.unsupportedMediaType('Unsupported content encoding or charset');
  }
  if (err.type === 'request.aborted' || err.type === 'request.size.invalid' || status === 400) {
    return errors.badRequest('The request could not be read');
  }
  return undefined;
}

/**
 * The last middleware: every error becomes an OperationOutcome with its
 * status. Unexpected errors are logged (message and stack, never the request
 * body) and answered with a generic 500 that reveals nothing.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next) => {
    let fhir = err instanceof FhirError ? err : fromExpress(err as HttpishError);
    if (!fhir) {
      logger.error({ err, requestId: res.locals.requestId, method: req.method }, 'unhandled error');
      fhir = errors.internal();
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(fhir.headers)) {
      res.setHeader(name, value);
    }
    try {
      sendOutcome(req, res, fhir.status, fhir.outcome);
    } catch {
      // Content negotiation itself failed (e.g. the 406 case): answer in FHIR JSON regardless.
      res.status(fhir.status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(fhir.outcome));
    }
  };
}
