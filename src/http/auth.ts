import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Authenticator } from '../auth/authenticator';

/** Paths below /fhir answered without a token (the CapabilityStatement, SMART discovery). */
const PUBLIC_PATHS = new Set(['/metadata', '/.well-known/smart-configuration']);

/**
 * Authentication for the FHIR router: every request but the public paths
 * must carry a valid Bearer token; the verified principal is left on
 * `res.locals.principal` for the request context. Failures go to the error
 * handler as 401 OperationOutcomes.
 * @see https://hl7.org/fhir/R4/security.html
 */
export function authenticate(authenticator: Authenticator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' && PUBLIC_PATHS.has(req.path)) {
      next();
      return;
    }
    authenticator.authenticate(req.headers.authorization).then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      next,
    );
  };
}
