/**
 * Parameters that shape the response rather than select data: content
 * negotiation (handled by the HTTP layer) is all they do, so search, history
 * and conditional criteria accept and ignore them.
 * @see https://hl7.org/fhir/R4/http.html#parameters
 */
export const FORMAT_PARAMETERS: ReadonlySet<string> = new Set(['_format', '_pretty']);
