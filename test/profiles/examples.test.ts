import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { loadProfileRegistry, validateAgainstProfiles } from '../../src/fhir/profiles';

/**
 * The public examples of ../shared/reference/examples, checked against the
 * profiles they claim in meta.profile. Those that conform have no error;
 * each one that fails is listed with the element, the rule, and why the
 * example (not the validator) is wrong.
 */
const ROOT = join(__dirname, '../../../shared/reference/examples');

const MASTER_ID = 'DocumentReference.masterIdentifier.use';
const WHY_MASTER_ID = 'PDSm types masterIdentifier as MHD UniqueIdIdentifier, whose use is 1..1 (pattern "usual"); the example has no use';
const SUBMISSION_ENTRIES = ['Bundle.entry[0]', 'Bundle.entry[1]', 'Bundle.entry'];
const WHY_ENTRIES =
  'Bundle.entry is sliced by the profile of the resource (closed): the SubmissionSet and DocumentReference entries do not meet pdsm-submissionset / pdsm-comprehensive-document-reference (same faults as the single-resource examples), so they match no slice and the required SubmissionSet slice is empty';

/** file -> [error locations], why. */
const FAILING: Readonly<Record<string, readonly [readonly string[], string]>> = {
  'pdsm/Bundle-bundle-exemple-comprehensiveprovidedocument-replace.json': [SUBMISSION_ENTRIES, WHY_ENTRIES],
  'pdsm/DocumentReference-doc-old.json': [
    [MASTER_ID, 'DocumentReference.author[0].reference'],
    `${WHY_MASTER_ID}; its contained author PractitionerRole points to a contained Organization whose type codes break as-organization's slicing (targetProfile as-practitionerrole)`,
  ],
  'pdsm/List-ExampleSubmissionSet.json': [
    ['List.extension[3].value.ofType(Reference).reference', 'List.identifier[0].value', 'List.source.reference'],
    'MHD constraint mhd-startswithoid: the uniqueId identifier value must start with urn:oid:; the contained author PractitionerRole does not meet as-practitionerrole (as above)',
  ],
  'pdsm4dmp/Bundle-example-td2-1-remplacement.json': [SUBMISSION_ENTRIES, WHY_ENTRIES],
  'pdsm4dmp/Bundle-example-td2-iti65-lot-soumission.json': [SUBMISSION_ENTRIES, WHY_ENTRIES],
  'pdsm4dmp/DocumentReference-doc-x-id.json': [
    [MASTER_ID, 'DocumentReference.author[0].reference', 'DocumentReference.authenticator.reference'],
    `${WHY_MASTER_ID}; author and authenticator reference a Practitioner, which PDSm does not allow (author: PractitionerRole, Device, Patient; authenticator: PractitionerRole, Organization)`,
  ],
  'pdsm4dmp/DocumentReference-example-annexe-docref-cda.json': [[MASTER_ID], WHY_MASTER_ID],
  'pdsm4dmp/DocumentReference-example-annexe-docref-fhir.json': [[MASTER_ID], WHY_MASTER_ID],
  'pdsm4dmp/DocumentReference-example-td2-iti105-publication-simplifiee.json': [
    ['DocumentReference.author[0].reference'],
    'the contained author Practitioner does not meet the annuaire profile as-practitioner that PDSm requires of a Practitioner author',
  ],
  'pdsm4dmp/DocumentReference-example-td3-1a-cr-consultation.json': [[MASTER_ID], WHY_MASTER_ID],
  'pdsm4dmp/DocumentReference-example-td3-1a-fhir-document.json': [[MASTER_ID], WHY_MASTER_ID],
  'pdsm4dmp/DocumentReference-example-td3-1a-ordonnance.json': [[MASTER_ID], WHY_MASTER_ID],
};

/** Profiles the reference folder does not hold (BALP, PCF, MHD response, annuaire "dp" profiles): a warning each. */
const UNKNOWN_PROFILE_WARNINGS: Readonly<Record<string, number>> = {
  'ihe-balp/AuditEvent-ex-auditAuthZconsent-deny.json': 1,
  'ihe-balp/AuditEvent-ex-auditBasicCreateNoUserReport.json': 1,
  'ihe-balp/AuditEvent-ex-auditBasicQueryGetServer.json': 1,
  'ihe-balp/AuditEvent-ex-auditBasicReadClient.json': 1,
  'ihe-pcf/Consent-ex-consent-advanced-normal-break-glass-restricted.json': 1,
  'pdsm/Bundle-a9c10f8a-882d-4000-a280-7150e0aeb478.json': 1,
  'pdsm/Organization-org-example.json': 1,
};

const examples: [string, Resource][] = [];
if (existsSync(ROOT)) {
  for (const dir of readdirSync(ROOT).sort()) {
    for (const f of readdirSync(join(ROOT, dir)).sort()) {
      const r = f.endsWith('.json') && !f.includes('patch') ? (JSON.parse(readFileSync(join(ROOT, dir, f), 'utf8')) as Resource) : undefined;
      if (r?.meta?.profile?.length) {
        examples.push([`${dir}/${f}`, r]);
      }
    }
  }
}

describe('public examples against the profiles they claim', () => {
  loadDefinitions();
  const registry = loadProfileRegistry();

  test('the reference examples are there', () => {
    expect(examples.length).toBeGreaterThanOrEqual(25);
    for (const f of [...Object.keys(FAILING), ...Object.keys(UNKNOWN_PROFILE_WARNINGS)]) {
      expect(examples.map(([n]) => n)).toContain(f);
    }
  });

  test.each(examples)('%s', (name, resource) => {
    const issues = validateAgainstProfiles(registry, resource, resource.meta?.profile ?? []);
    const errors = issues.filter((i) => i.severity === 'error').map((i) => i.expression?.[0]);
    expect(errors).toEqual(FAILING[name]?.[0] ?? []);
    expect(issues.filter((i) => i.code === 'not-supported').length).toBe(UNKNOWN_PROFILE_WARNINGS[name] ?? 0);
  });
});
