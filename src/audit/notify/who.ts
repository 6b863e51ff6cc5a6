import type { Practitioner } from '@medplum/fhirtypes';
import fs from 'node:fs';
import path from 'node:path';
import { RPPS_SYSTEM } from '../../access/codes';
import type { Principal } from '../../auth/principal';
import { humanNameText } from '../../fhir/human-name';
import { parseSearch } from '../../fhir/search/parse';
import type { ResourceStore } from '../../store/port';

/** The TRE_G15 profession code system shipped in terminology/ (for displays such as "Médecin"). */
const TRE_G15_FILE = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  ...(__dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []),
  'terminology',
  'vendor',
  'pdsm-combined',
  'CodeSystem-TRE-G15-ProfessionSante-1.5.0.json',
);

let professions: ReadonlyMap<string, string> | undefined;

/** "Médecin" for `10`; undefined when the code is unknown or the file is missing (the code alone is then shown). */
export function professionDisplay(code: string): string | undefined {
  if (!professions) {
    try {
      const cs = JSON.parse(fs.readFileSync(TRE_G15_FILE, 'utf8')) as { concept?: { code: string; display?: string }[] };
      professions = new Map((cs.concept ?? []).filter((c) => c.display).map((c) => [c.code, c.display as string]));
    } catch {
      professions = new Map();
    }
  }
  return professions.get(code);
}

/**
 * The professional's name from the directory (a Practitioner with this
 * RPPS), when the DMP holds one. The token carries no name (DMP-RULES.md
 * § 7), so the patient would otherwise only read an RPPS number. Only runs
 * when a notification is written and the interaction's summary does not
 * already carry the name (the audit looks it up, cached, for every request).
 * @see https://hl7.org/fhir/R4/practitioner.html
 */
export async function practitionerName(store: ResourceStore, rpps: string): Promise<string | undefined> {
  const { plan } = parseSearch(['Practitioner'], [['identifier', `${RPPS_SYSTEM}|${rpps}`]], {
    baseUrl: 'urn:internal',
    defaultCount: 1,
    maxCount: 1,
    lenient: false,
  });
  const page = await store.search({ ...plan, total: false });
  const json = page.matches[0]?.json;
  return json ? humanNameText((JSON.parse(json) as Practitioner).name) : undefined;
}

/**
 * Who acted, in French, for the patient: name (when known), RPPS and
 * profession for professionals; the system and its organisation for
 * feeders. Nothing else of the token (no sub of a person, no scopes).
 */
export function describeActor(p: Principal, name: string | undefined): string {
  switch (p.role) {
    case 'professional':
    case 'regulator': {
      const label = p.role === 'regulator' ? 'le médecin régulateur du SAMU-Centre 15' : 'le professionnel de santé';
      const parts = [`RPPS ${p.rpps ?? 'inconnu'}`];
      if (p.profession) {
        const display = professionDisplay(p.profession);
        parts.push(`profession ${p.profession}${display ? ` (${display})` : ''}`);
      }
      return `${label}${name ? ` ${name}` : ''} (${parts.join(', ')})`;
    }
    case 'feeder':
      return `le système ${p.sub}${p.organization ? ` de l'organisation ${p.organization}` : ''}`;
    case 'assurance-maladie':
      return "l'Assurance Maladie";
    case 'patient':
      return 'vous-même';
    case 'representative':
      return 'votre représentant légal';
    default:
      return `un utilisateur (${p.role})`;
  }
}
