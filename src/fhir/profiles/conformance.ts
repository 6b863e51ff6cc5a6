import type { Coding, OperationOutcome, Parameters, Resource, ValueSet } from '@medplum/fhirtypes';
import { errors } from '../outcomes';
import { checkResource, ConformanceLoadError } from './loader';
import { runValidate, writeValidator, type BaseValidator, type ProfileValidationOptions, type ValidateRequest } from './operations';
import type { ProfileRegistry } from './registry';
import { expand, lookup, validateCode, type ExpandParams } from './terminology-ops';

/** An inline ValueSet (`$expand` valueSet parameter) gets the checks a file in terminology/ gets: bad ones are 400. */
function checkInlineValueSet(vs: unknown): void {
  const r = vs as { resourceType?: unknown; url?: unknown };
  if (typeof vs !== 'object' || vs === null || r.resourceType !== 'ValueSet') {
    throw errors.badRequest('The valueSet parameter must hold a ValueSet', 'valueSet');
  }
  try {
    checkResource('valueSet parameter', { ...r, url: typeof r.url === 'string' ? r.url : 'urn:inline' });
  } catch (err) {
    throw errors.badRequest(err instanceof ConformanceLoadError ? err.problem : 'The ValueSet is malformed', 'valueSet');
  }
}

/**
 * Profiles, `$validate` and the terminology operations, for FhirService
 * (which wraps each call in its `perform`, where authorization and audit go).
 * @see https://hl7.org/fhir/R4/validation.html
 * @see https://hl7.org/fhir/R4/terminology-service.html
 */
export class Conformance {
  /** The validator of the write path: base R4 plus profiles. */
  readonly writeValidator: BaseValidator;

  constructor(
    readonly registry: ProfileRegistry,
    private readonly base: BaseValidator,
    readonly options: ProfileValidationOptions,
  ) {
    this.writeValidator = writeValidator(base, registry, options);
  }

  /** @see https://hl7.org/fhir/R4/resource-operation-validate.html */
  validate(req: ValidateRequest): OperationOutcome {
    return runValidate(this.base, this.registry, this.options, req);
  }

  /** `$expand` by url, by ValueSet id (instance level), or of an inline ValueSet. */
  expand(params: ExpandParams & { id?: string }): ValueSet {
    let url = params.url;
    if (params.id) {
      const vs = this.registry.content.valueSets.find((v) => v.resource.id === params.id)?.resource;
      if (!vs) {
        throw errors.notFound(`ValueSet/${params.id} is not known`);
      }
      url = `${vs.url}|${vs.version}`;
    }
    if (params.valueSet !== undefined) {
      checkInlineValueSet(params.valueSet);
    }
    return expand(this.registry.terminology, { ...params, url });
  }

  /** @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html */
  validateCode(url: string | undefined, codings: Coding[]): Parameters {
    return validateCode(this.registry.terminology, url, codings);
  }

  /** @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html */
  lookup(system: string | undefined, code: string | undefined): Parameters {
    return lookup(this.registry.terminology, system, code);
  }

  /** Canonical URLs of the profiles the CapabilityStatement lists as supported (the server's own). */
  supportedProfiles(): Map<string, string[]> {
    const byType = new Map<string, string[]>();
    for (const { resource } of this.registry.content.structureDefinitions) {
      if (resource.url?.startsWith('https://dmp.example/fhir/') && resource.kind === 'resource') {
        byType.set(resource.type as string, [...(byType.get(resource.type as string) ?? []), resource.url]);
      }
    }
    return byType;
  }

  private all?: Resource[];

  /** The loaded conformance resources (for reading and search), StructureDefinitions with their snapshots. */
  resources(): Resource[] {
    const c = this.registry.content;
    this.all ??= [...c.structureDefinitions, ...c.valueSets, ...c.codeSystems, ...c.searchParameters].map((l) => l.resource);
    return this.all;
  }
}
