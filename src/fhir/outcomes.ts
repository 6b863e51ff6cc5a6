import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * An error that carries its FHIR OperationOutcome and the HTTP status it maps
 * to. Everything the server refuses is thrown as one of these; the HTTP error
 * handler only serialises it.
 * @see https://hl7.org/fhir/R4/operationoutcome.html
 * @see https://hl7.org/fhir/R4/http.html#Status-Codes
 */
export class FhirError extends OperationOutcomeError {
  constructor(
    readonly status: number,
    outcome: OperationOutcome,
    /** Response headers the refusal calls for (e.g. Retry-After). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(outcome);
    this.name = 'FhirError';
  }
}

type IssueCode = OperationOutcomeIssue['code'];

/** One issue (an error unless said otherwise); `expression` says where (FHIRPath), when known. */
export function issue(
  code: IssueCode,
  text: string,
  expression?: string | string[],
  severity: OperationOutcomeIssue['severity'] = 'error',
): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression !== undefined) {
    out.expression = Array.isArray(expression) ? expression : [expression];
  }
  return out;
}

/** An OperationOutcome from issues. */
export function outcome(...issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

/** An informational OperationOutcome (used for `Prefer: return=OperationOutcome`). */
export function informational(text: string): OperationOutcome {
  return outcome({ severity: 'information', code: 'informational', details: { text } });
}

function fail(status: number, code: IssueCode, text: string, expression?: string | string[]): FhirError {
  return new FhirError(status, outcome(issue(code, text, expression)));
}

/** Constructors for every refusal the server makes, named by meaning. */
export const errors = {
  badRequest: (text: string, expression?: string | string[]) => fail(400, 'invalid', text, expression),
  /** Validation failure: the caller sends issues that say what and where. */
  invalid: (issues: OperationOutcomeIssue[]) => new FhirError(400, outcome(...issues)),
  /** Well-formed but not processable (business rule): 422. */
  unprocessable: (text: string, expression?: string | string[]) => fail(422, 'processing', text, expression),
  unauthorized: (text = 'Authentication required') => fail(401, 'login', text),
  forbidden: (text = 'Forbidden') => fail(403, 'forbidden', text),
  /** Unknown resource, or one the caller may not know exists (same message on purpose). */
  notFound: (text: string) => fail(404, 'not-found', text),
  notSupported: (text: string) => fail(404, 'not-supported', text),
  methodNotAllowed: (text: string) => fail(405, 'not-supported', text),
  notAcceptable: (text: string) => fail(406, 'not-supported', text),
  conflict: (text: string) => fail(409, 'conflict', text),
  gone: (text: string) => fail(410, 'deleted', text),
  preconditionFailed: (text: string) => fail(412, 'conflict', text),
  multipleMatches: (text: string) => fail(412, 'multiple-matches', text),
  payloadTooLarge: (text: string) => fail(413, 'too-costly', text),
  unsupportedMediaType: (text: string) => fail(415, 'not-supported', text),
  /** A byte range that selects nothing of content of `size` bytes (RFC 9110 § 15.5.17: 416 with `Content-Range: bytes *\/size`). */
  rangeNotSatisfiable: (size: number) =>
    new FhirError(416, outcome(issue('invalid', `The requested range selects no byte of the ${size} bytes of this content`, 'Range')), { 'Content-Range': `bytes */${size}` }),
  /** The database is momentarily unavailable; nothing was written. */
  unavailable: () =>
    new FhirError(503, outcome(issue('transient', 'The service is momentarily unavailable; retry shortly')), { 'Retry-After': '1' }),
  /** A failure of ours. The message is generic on purpose: details go to the log, never to the client. */
  internal: () => fail(500, 'exception', 'Internal server error'),
} as const;
