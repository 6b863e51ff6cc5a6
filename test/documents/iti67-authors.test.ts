import type { Resource } from '@medplum/fhirtypes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/** A prescription (a type the pharmacist reads) of `patient`, with these authors and contained resources. */
function document(patient: string, author: string[], contained: unknown[] = [], extra: { labels?: string[]; authenticator?: string } = {}): Resource {
  const d = dmpDocument(patient, '57833-6', extra.labels ?? []) as unknown as Record<string, unknown>;
  d.author = author.map((reference) => ({ reference }));
  if (contained.length > 0) d.contained = contained;
  if (extra.authenticator) d.authenticator = { reference: extra.authenticator };
  return d as unknown as Resource;
}
const practitioner = (id: string, family: string, given: string) => ({ resourceType: 'Practitioner', id, name: [{ family, given: [given] }] });
const role = (id: string, practitionerRef: string) => ({ resourceType: 'PractitionerRole', id, practitioner: { reference: practitionerRef } });

/**
 * ITI-67 `author.given` / `author.family`: the name parts of the author
 * person, whether the document refers to it or contains it (PDSm documents
 * mostly contain it), through HTTP with real tokens, on each store.
 */
describe.each(STORES)('ITI-67 author.given / author.family ($name)', (fixture) => {
  let w: DmpWorld;
  let gp: Client;
  let pharmacist: Client;
  let P: string;
  const D: Record<string, string> = {};

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    pharmacist = await w.as('pharmacist');
    const author = await w.as('author');
    const lab = await w.as('lab');
    P = (await gp.post('Patient', dmpPatient('285047512399401'))).body.id;
    expect((await (await w.as('patient', P)).post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]))).status).toBe(201);
    for (const r of [
      practitioner('pr-dupont', 'Dupont', 'Jean'),
      practitioner('pr-roux', 'Roux', 'Céline'),
      practitioner('pr-garnier', 'Garnier', 'Inès'),
      role('prr-roux', 'Practitioner/pr-roux'),
    ]) {
      expect((await lab.put(`${r.resourceType}/${r.id}`, r)).status).toBe(201);
    }
    const post = async (key: string, r: Resource) => {
      const res = await author.post('DocumentReference', r);
      expect(res.status).toBe(201);
      D[key] = res.body.id;
    };
    // Contained Practitioner, directly the author.
    await post('containedPr', document(P, ['#pr'], [practitioner('pr', 'Lefèvre', 'Élodie')]));
    // Contained PractitionerRole -> contained Practitioner (the PDSm 3.1.1 shape).
    await post('containedRole', document(P, ['#role'], [role('role', '#pr2'), practitioner('pr2', 'Ballard', 'Hugo')]));
    // PractitionerRole/prr-roux -> Practitioner/pr-roux.
    await post('externalRole', document(P, ['PractitionerRole/prr-roux']));
    // Practitioner/pr-dupont (the plain chain).
    await post('externalPr', document(P, ['Practitioner/pr-dupont']));
    // Contained PractitionerRole -> Practitioner/pr-garnier (PDSm's doc-old shape).
    await post('containedRoleExternalPr', document(P, ['#role'], [role('role', 'Practitioner/pr-garnier')]));
    // A contained Patient as the author (the patient's own document), as the plain chain reaches a Patient resource.
    await post('containedPatient', document(P, ['#me'], [{ resourceType: 'Patient', id: 'me', name: [{ family: 'Renard', given: ['Yaëlle'] }] }]));
    // A contained Practitioner that only authenticates: not an author person.
    await post('notAuthor', document(P, ['#org'], [{ resourceType: 'Organization', id: 'org', name: 'CHU' }, practitioner('pr', 'Lefèvre', 'Élodie')], { authenticator: '#pr' }));
    // Masked from professionals but the author and the médecin traitant, with the same contained author as containedPr.
    await post('masked', document(P, ['#role'], [role('role', '#pr'), practitioner('pr', 'Lefèvre', 'Élodie')], { labels: ['MASQUE_PS'] }));
  });
  afterAll(async () => {
    await w.close();
  });

  const search = async (c: Client, query: string) => {
    const res = await c.get(`DocumentReference?patient=${P}&${query}&_count=100&_total=accurate`);
    expect(res.status).toBe(200);
    const names = new Map(Object.entries(D).map(([k, v]) => [v, k]));
    return { found: ids(res.body).map((id) => names.get(id) ?? id).sort(), total: res.body.total as number };
  };
  const q = (name: string, value: string) => `${name}=${encodeURIComponent(value)}`;

  test.each([
    ['contained Practitioner: given, prefix, accents and case ignored', q('author.given', 'elo'), ['containedPr', 'masked']],
    ['contained Practitioner: family', q('author.family', 'LEFEVRE'), ['containedPr', 'masked']],
    ['contained Practitioner: family:exact', q('author.family:exact', 'Lefèvre'), ['containedPr', 'masked']],
    ['contained Patient author: given and family', `${q('author.given', 'yaelle')}&${q('author.family', 'renard')}`, ['containedPatient']],
    ['contained Practitioner: :exact is case- and accent-sensitive', q('author.family:exact', 'Lefevre'), []],
    ['contained role -> contained Practitioner: given', q('author.given', 'hu'), ['containedRole']],
    ['contained role -> contained Practitioner: family', q('author.family', 'Ballard'), ['containedRole']],
    ['contained role -> contained Practitioner: given:exact', q('author.given:exact', 'Hugo'), ['containedRole']],
    ['contained role -> contained Practitioner: family:contains', q('author.family:contains', 'LLAR'), ['containedRole']],
    ['PractitionerRole -> Practitioner: given', q('author.given', 'CELINE'), ['externalRole']],
    ['PractitionerRole -> Practitioner: family', q('author.family', 'rou'), ['externalRole']],
    ['PractitionerRole -> Practitioner: given:exact', q('author.given:exact', 'Céline'), ['externalRole']],
    ['Practitioner (the plain chain): given', q('author.given', 'jean'), ['externalPr']],
    ['Practitioner (the plain chain): family:exact', q('author.family:exact', 'Dupont'), ['externalPr']],
    ['contained role -> Practitioner: given', q('author.given', 'ines'), ['containedRoleExternalPr']],
    ['contained role -> Practitioner: family:exact', q('author.family:exact', 'Garnier'), ['containedRoleExternalPr']],
    ['OR values across shapes', q('author.family', 'ballard,roux,dup'), ['containedRole', 'externalPr', 'externalRole']],
    ['a name nobody has', q('author.given', 'zoe'), []],
    ['a name only the family has is not a given', q('author.given', 'lefevre'), []],
    ['author:Practitioner.family means a Practitioner resource: not a contained one', q('author:Practitioner.family', 'lefevre'), []],
    ['author:Practitioner.family finds the Practitioner resource', q('author:Practitioner.family', 'dupont'), ['externalPr']],
    ['with another criterion (AND)', `${q('author.family', 'lefevre')}&${q('author.given', 'hugo')}`, []],
  ])('%s', async (_name, query, expected) => {
    const { found, total } = await search(gp, query);
    expect(found).toEqual(expected);
    expect(total).toBe(expected.length);
  });

  test('a masked document stays hidden from the pharmacist, and out of the total, found by its contained author or not', async () => {
    expect(await search(pharmacist, q('author.family', 'lefevre'))).toEqual({ found: ['containedPr'], total: 1 });
    expect(await search(pharmacist, q('author.given:exact', 'Élodie'))).toEqual({ found: ['containedPr'], total: 1 });
    expect(await search(gp, q('author.given:exact', 'Élodie'))).toEqual({ found: ['containedPr', 'masked'], total: 2 });
    // The chained alternatives work for the pharmacist too (the access rules reach inside them, and let Practitioners be seen).
    expect(await search(pharmacist, q('author.family', 'roux,garnier,dupont,ballard'))).toEqual({ found: ['containedRole', 'containedRoleExternalPr', 'externalPr', 'externalRole'], total: 4 });
  });

  test('author:PractitionerRole.given is not a FHIR parameter (PractitionerRole has no given): 400', async () => {
    const res = await gp.get(`DocumentReference?patient=${P}&author:PractitionerRole.given=hugo`);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/author:PractitionerRole.given/);
  });

  test('author.given and author.family are declared in the CapabilityStatement, as string parameters (as MHD\'s Document Responder does)', async () => {
    const dr = (await gp.get('metadata')).body.rest[0].resource.find((r: { type: string }) => r.type === 'DocumentReference');
    for (const name of ['author.given', 'author.family']) {
      const p = dr.searchParam.find((x: { name: string }) => x.name === name);
      expect(p).toMatchObject({ name, type: 'string' });
      expect(p.documentation).toMatch(/contained/);
    }
  });
});
