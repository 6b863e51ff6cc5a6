import type { Parameters } from '@medplum/fhirtypes';
import type { Request, Response, Router } from 'express';
import type { RequestContext } from '../fhir/context';
import { errors } from '../fhir/outcomes';
import type { FhirService } from '../fhir/service';
import { bodyOf, type BodyReaders } from './body';
import { sendWritten } from './respond';

/**
 * `POST Patient/{id}/$close` (optional `reason` in a Parameters body) and
 * `POST Patient/{id}/$reopen` (DMP-RULES.md § 1, project rule). Both answer
 * the Patient as changed, like an update.
 * @see https://hl7.org/fhir/R4/operations.html
 */
export function recordLifeRoutes(
  router: Router,
  service: FhirService,
  body: BodyReaders,
  ctx: (req: Request, res: Response) => RequestContext,
  baseUrl: string,
): void {
  router.post('/Patient/:id/$close', body.parameters, async (req, res) => {
    const patient = await service.closeRecord(ctx(req, res), req.params.id as string, reasonOf(bodyOf(res)));
    sendWritten(req, res, patient, false, baseUrl);
  });
  router.post('/Patient/:id/$reopen', body.parameters, async (req, res) => {
    reasonOf(bodyOf(res));
    sendWritten(req, res, await service.reopenRecord(ctx(req, res), req.params.id as string), false, baseUrl);
  });
  for (const op of ['$close', '$reopen']) {
    router.all(`/Patient/:id/${op}`, () => {
      throw errors.methodNotAllowed(`Use POST for ${op}`);
    });
  }
}

/** Whether a path may be one of recordLifeRoutes' (`Patient/{id}/$close` or `$reopen`). */
export function isRecordLifePath(req: Request): boolean {
  return req.path.startsWith('/Patient/') && (req.path.includes('/$close') || req.path.includes('/$reopen'));
}

/** The optional `reason` (valueString) of a Parameters body; anything else is 400. */
function reasonOf(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  const p = body as Parameters;
  if (p?.resourceType !== 'Parameters') {
    throw errors.badRequest('The body of this operation must be a Parameters resource');
  }
  const reason = p.parameter?.find((x) => x.name === 'reason');
  if (reason && typeof reason.valueString !== 'string') {
    throw errors.badRequest('reason must be a valueString', 'Parameters.parameter');
  }
  return reason?.valueString;
}
