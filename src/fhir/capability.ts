import { EXPORT_OPERATIONS } from './export/capability';
import { getSearchParameters } from '@medplum/core';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
  CapabilityStatementRestSecurity,
  SearchParameter,
} from '@medplum/fhirtypes';
import { DMP_BASE } from '../access/codes';
import { loadDefinitions } from './definitions';
import { isImplemented } from './search/parse-params';

/** Interactions every registered type supports. @see https://hl7.org/fhir/R4/capabilitystatement.html */
const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

/** Parameters the store answers from its own columns rather than index entries. */
const COLUMN_PARAMS: CapabilityStatementRestResourceSearchParam[] = [
  { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' },
  { name: '_lastUpdated', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated' },
];

/**
 * The search parameters a type supports: every R4 parameter of the type that
 * has a FHIRPath expression and is not of type `special` (those are indexed at
 * write time), plus `_id` and `_lastUpdated`.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function supportedSearchParameters(type: string): SearchParameter[] {
  return Object.values(getSearchParameters(type) ?? {}).filter(
    (sp) => isImplemented(sp, type) && sp.code !== '_id' && sp.code !== '_lastUpdated',
  );
}

/** Types written by the server only (DMP-RULES.md § 8): read and search, no write interaction. */
const SERVER_WRITTEN = new Set(['AuditEvent']);
const READ_INTERACTIONS = new Set(['read', 'vread', 'history-instance', 'history-type', 'search-type']);

/** The DMP operations, per type. */
// (EXPORT_OPERATIONS: $everything and Bulk Data $export, src/fhir/export/capability.ts.)
const OPERATIONS: Record<string, { name: string; definition: string; documentation: string }[]> = {
  Patient: [
    { name: 'close', definition: `${DMP_BASE}/OperationDefinition/Patient-close`, documentation: 'POST Patient/{id}/$close (optional Parameters reason): closes the DMP; the patient, a legal representative or the administrator.' },
    { name: 'reopen', definition: `${DMP_BASE}/OperationDefinition/Patient-reopen`, documentation: 'POST Patient/{id}/$reopen: reopens a closed DMP; same callers.' },
    ...EXPORT_OPERATIONS.Patient,
  ],
  Group: EXPORT_OPERATIONS.Group,
};

/** What a client needs to know of a type beyond the standard interactions. */
const DOCUMENTATION: Record<string, string> = {
  Binary:
    'POST/PUT with raw bytes of any Content-Type (X-Security-Context optional) or as application/fhir+json with base64 data; ' +
    'GET answers the bytes with the stored Content-Type, or the resource with base64 data for Accept: application/fhir+json; ' +
    'a single byte Range is honoured (206/416; several ranges get the whole content). Content is stored outside the resource ' +
    '(BINARY_MAX_SIZE, 413 beyond) and is readable by its uploader and by whoever may read a DocumentReference pointing to it.',
};

/**
 * Chains a type declares as parameters of their own, as IHE MHD's Document
 * Responder does: `patient.identifier` (the patient by INS, ITI-66 and
 * ITI-67), and ITI-67 `author.given` / `author.family`, which mean more than
 * the chain (they also reach contained authors, search/parse-author.ts).
 * @see https://profiles.ihe.net/ITI/MHD/CapabilityStatement-IHE.MHD.DocumentResponder.html
 */
const PATIENT_IDENTIFIER = {
  name: 'patient.identifier',
  type: 'token',
  documentation: 'The patient by one of his identifiers, e.g. the INS (urn:oid:1.2.250.1.213.1.4.8|{INS}): the chain patient -> Patient.identifier',
} as const;
const AUTHOR_NAME_DOCUMENTATION =
  'The name parts of the author person (IHE MHD ITI-67): a Practitioner, Patient or RelatedPerson author, the Practitioner of a ' +
  'PractitionerRole author, or a Practitioner, Patient or RelatedPerson contained in the document as its author (a Practitioner also as ' +
  'the practitioner of a contained PractitionerRole author); string search (:exact, :contains). author:Practitioner.given means only a Practitioner resource.';
const CHAINED_PARAMS: Record<string, NonNullable<CapabilityStatementRestResource['searchParam']>> = {
  DocumentReference: [
    PATIENT_IDENTIFIER,
    { name: 'author.given', type: 'string', documentation: AUTHOR_NAME_DOCUMENTATION },
    { name: 'author.family', type: 'string', documentation: AUTHOR_NAME_DOCUMENTATION },
  ],
  List: [PATIENT_IDENTIFIER],
};

function resourceEntry(type: string, revIncludes: Map<string, string[]>): CapabilityStatementRestResource {
  const params = supportedSearchParameters(type);
  return {
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    ...(DOCUMENTATION[type] ? { documentation: DOCUMENTATION[type] } : {}),
    interaction: TYPE_INTERACTIONS.filter((code) => !SERVER_WRITTEN.has(type) || READ_INTERACTIONS.has(code)).map((code) => ({ code })),
    ...(OPERATIONS[type] ? { operation: OPERATIONS[type] } : {}),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-match',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchInclude: params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`),
    searchRevInclude: revIncludes.get(type) ?? [],
    searchParam: [
      ...COLUMN_PARAMS,
      ...params.map((p) => ({ name: p.code as string, type: p.type, definition: p.url })),
      ...(CHAINED_PARAMS[type] ?? []),
    ],
  };
}

/** Where tokens come from, for `rest.security` and SMART discovery. */
export interface SecurityInfo {
  issuer: string;
  tokenEndpoint?: string;
  authorizeEndpoint?: string;
}

/**
 * `rest.security`: SMART-on-FHIR bearer tokens, the endpoints of the
 * issuer when known, and the DMP claims the server reads.
 * @see https://hl7.org/fhir/smart-app-launch/conformance.html
 */
function restSecurity(s: SecurityInfo): CapabilityStatementRestSecurity {
  const uris = [
    ...(s.tokenEndpoint ? [{ url: 'token', valueUri: s.tokenEndpoint }] : []),
    ...(s.authorizeEndpoint ? [{ url: 'authorize', valueUri: s.authorizeEndpoint }] : []),
  ];
  return {
    cors: false,
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
    ...(uris.length > 0 ? { extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: uris }] } : {}),
    description:
      `Bearer JWT (ES256 or RS256) issued by ${s.issuer}, audience this server. Claims (DMP-RULES § 7): sub, role ` +
      '(patient, representative, professional, regulator, feeder, assurance-maladie, admin; insurer, employer and ' +
      'occupational-physician are always refused), patient, rpps, profession (TRE_G15), purpose_of_use (normal, ' +
      'bris_de_glace, centre_15), organization, scope (SMART v1 or v2 resource scopes, enforced in addition). ' +
      'Public without a token: /metadata and /.well-known/smart-configuration.',
  };
}

/** What each role may do, in one paragraph (the README and docs/access-control.md have the details). */
const ACCESS_DOCUMENTATION =
  'DMP access control: the patient and legal representatives read their DMP (minus INVISIBLE_PATIENT / ' +
  'INVISIBLE_REPRESENTANTS_LEGAUX) and manage Consents; the médecin traitant reads everything; professionals ' +
  'authorised by a permit Consent, or in bris_de_glace / centre_15 mode unless opposed, read what the profession ' +
  'matrix allows, minus MASQUE_PS unless author; blocked professionals and closed DMPs are refused; feeders ' +
  'read their own submissions; Assurance Maladie writes REMB only; the administrator reads directory and ' +
  'conformance resources only. Refused: 403; hidden: 404 as if unknown. AuditEvents are written by the server only.';

/** `Source:param` revincludes, per target type. */
function revIncludesByTarget(types: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const source of types) {
    for (const p of supportedSearchParameters(source)) {
      if (p.type !== 'reference') continue;
      for (const target of p.target ?? []) {
        const list = out.get(target) ?? [];
        list.push(`${source}:${p.code}`);
        out.set(target, list);
      }
    }
  }
  return out;
}

/**
 * The CapabilityStatement, built from what is really registered: the stored
 * types, the interactions the router serves, the indexed search parameters.
 * @see https://hl7.org/fhir/R4/capabilitystatement.html
 */
export function buildCapabilityStatement(opts: { baseUrl: string; version: string; date: string; security?: SecurityInfo }): CapabilityStatement {
  const { resourceTypes } = loadDefinitions();
  const rev = revIncludesByTarget(resourceTypes);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: opts.date,
    publisher: 'dmp-fhir-server',
    kind: 'instance',
    software: { name: 'dmp-fhir-server', version: opts.version },
    implementation: { description: 'FHIR R4 server for the French Dossier Médical Partagé', url: opts.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        resource: resourceTypes.map((t) => resourceEntry(t, rev)),
        interaction: [
          {
            code: 'transaction',
            documentation:
              'POST [base] with a transaction Bundle: all or nothing on both stores (see the start-up log for the mechanism); processing order DELETE, POST, PUT/PATCH, GET; urn:uuid / urn:oid references rewritten; conditional references resolved (none: 400, several: 412); at most BUNDLE_MAX_ENTRIES entries.',
          },
          { code: 'batch', documentation: 'POST [base] with a batch Bundle: each entry processed on its own, a failed entry answers its status and OperationOutcome.' },
          { code: 'history-system' },
          { code: 'search-system' },
        ],
        searchParam: COLUMN_PARAMS,
        operation: EXPORT_OPERATIONS.system,
        ...(opts.security ? { security: restSecurity(opts.security) } : {}),
        documentation: ACCESS_DOCUMENTATION,
      },
    ],
  };
}
