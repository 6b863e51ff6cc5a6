import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Authenticator } from '../auth/authenticator';
import { errors, FhirError } from '../fhir/outcomes';
import { requestContext } from './request';

/** Paths below /fhir answered without a token (the CapabilityStatement, SMART discovery). */
const PUBLIC_PATHS = new Set(['/metadata', '/.well-known/smart-configuration']);

/**
 * Authentication for the FHIR router: every request but the public paths
 * must carry a valid Bearer token; the verified principal is left on
 * `res.locals.principal` for the request context. Failures go to the error
 * handler as 401 OperationOutcomes.
 * @see https://hl7.org/fhir/R4/security.html
 */
export function authenticate(authenticator: Authenticator, onRefused?: RefusalAuditor, baseUrl = ''): RequestHandler {
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
      (err: unknown) => {
        if (!onRefused) {
          next(err);
          return;
        }
        // The refusal is answered only once its security AuditEvent is durable (DMP-RULES.md § 8 item 10).
        const { requestId } = requestContext(req, res, baseUrl);
        const reason = err instanceof FhirError ? (err.outcome.issue?.[0]?.details?.text ?? 'unauthenticated') : 'unauthenticated';
        onRefused({ requestId, baseUrl, method: req.method, path: req.baseUrl + req.path, recorded: new Date().toISOString(), reason }).then(
          () => next(err),
          () => next(errors.unavailable()),
        );
      },
    );
  };
}

/** Records a request refused before anyone was identified (src/audit). */
export type RefusalAuditor = (req: { requestId: string; baseUrl: string; method: string; path: string; recorded: string; reason: string }) => Promise<void>;
