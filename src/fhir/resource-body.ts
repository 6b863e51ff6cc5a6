import type { Resource } from '@medplum/fhirtypes';
import { isValidId } from './ids';
import { errors } from './outcomes';

/**
 * Checks that a request body is a resource of the type named in the URL.
 * @see https://hl7.org/fhir/R4/http.html#create
 */
export function requireResource(body: unknown, type: string): Resource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.badRequest('The request body must be a JSON object holding a FHIR resource');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string') {
    throw errors.badRequest('The resource has no resourceType', 'resourceType');
  }
  if (resourceType !== type) {
    throw errors.badRequest(`The resource type in the body (${resourceType}) does not match the URL (${type})`, 'resourceType');
  }
  return body as Resource;
}

/**
 * For update: the body's id must be present and equal to the id in the URL.
 * @see https://hl7.org/fhir/R4/http.html#update
 */
export function requireMatchingId(resource: Resource, id: string): void {
  if (!isValidId(id)) {
    throw errors.badRequest(`"${id}" is not a valid resource id`);
  }
  if (resource.id === undefined) {
    throw errors.badRequest('An update must carry the resource id in the body', `${resource.resourceType}.id`);
  }
  if (resource.id !== id) {
    throw errors.badRequest(`The id in the body (${resource.id}) does not match the URL (${id})`, `${resource.resourceType}.id`);
  }
}
