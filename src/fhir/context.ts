import type { Principal } from '../auth/principal';

/**
 * The request context, built once per request by the HTTP layer and passed as
 * the first argument of every FhirService call, so that authorization, masking
 * and audit (which need to know who asks, why, and which request it is) can
 * sit in the service without changing its signature.
 */
export interface RequestContext {
  /** Correlates logs (and, later, AuditEvents) of one request. */
  requestId: string;
  /** The verified caller; absent until token verification is configured. */
  principal?: Principal;
  /** Public base URL of the FHIR endpoint (no trailing slash). */
  baseUrl: string;
}
