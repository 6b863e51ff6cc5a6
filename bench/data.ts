/**
 * Realistic French patients for the benchmark: INS-NIR identifiers with a
 * valid control key, accented names, French addresses and phone numbers.
 * Deterministic (seeded) so two runs store the same kind of data.
 */
import { GENERAL_PRACTITIONER } from './auth';

/** INS-NIR identifier system (DMP-RULES.md § 1). */
export const INS_NIR = 'urn:oid:1.2.250.1.213.1.4.8';

/** Small, fast, seeded PRNG (mulberry32): reproducible data without a dependency. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one element. */
export function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

/** Integer in [min, max]. */
export function between(r: () => number, min: number, max: number): number {
  return min + Math.floor(r() * (max - min + 1));
}

export const FAMILY_NAMES = [
  'Dupont', 'Dupré', 'Dupuis', 'Durand', 'Lefèvre', 'Lefebvre', 'Lévêque', 'Martin', 'Bernard', 'Thomas',
  'Petit', 'Robert', 'Richard', 'Moreau', 'Laurent', 'Simon', 'Michel', 'Leroy', 'Roux', 'David',
  'Bertrand', 'Morel', 'Fournier', 'Girard', 'Bonnet', 'Fontaine', 'Mercier', 'Gauthier', 'Chevalier', 'Rousseau',
  'Faure', 'Blanc', 'Guérin', 'Boyer', 'Garnier', 'Lemaître', 'Barbier', 'Brun', 'Hébert', 'Ménard',
  'Régnier', 'Noël', 'Benoît', 'Clément', 'Gaillard', 'Perrin', 'Aubert', 'Bégin', 'Château', 'Désiré',
] as const;

const GIVEN_FEMALE = ['Hélène', 'Chloé', 'Léa', 'Zoé', 'Anaïs', 'Éloïse', 'Maëlle', 'Inès', 'Célia', 'Françoise', 'Bérénice', 'Noémie', 'Agnès', 'Géraldine'];
const GIVEN_MALE = ['Jérôme', 'François', 'Joël', 'Noël', 'Gaël', 'Loïc', 'Hervé', 'André', 'Stéphane', 'Mathéo', 'Raphaël', 'Benoît', 'Clément', 'Frédéric'];

/** [postal code, city, INSEE department] */
const CITIES: ReadonlyArray<readonly [string, string, string]> = [
  ['75014', 'Paris', '75'], ['69003', 'Lyon', '69'], ['13005', 'Marseille', '13'], ['31000', 'Toulouse', '31'],
  ['06000', 'Nice', '06'], ['44000', 'Nantes', '44'], ['67000', 'Strasbourg', '67'], ['34000', 'Montpellier', '34'],
  ['33000', 'Bordeaux', '33'], ['59000', 'Lille', '59'], ['35000', 'Rennes', '35'], ['51100', 'Reims', '51'],
  ['38000', 'Grenoble', '38'], ['21000', 'Dijon', '21'], ['49000', 'Angers', '49'], ['97400', 'Saint-Denis', '97'],
];
const STREETS = ['rue de la République', 'avenue Jean-Jaurès', 'boulevard Gambetta', 'rue Émile-Zola', 'place de l’Église', 'chemin des Écoliers', 'rue du Général-de-Gaulle', 'allée des Châtaigniers'];

/** Accent-free lower case, as the server's string index normalizes (DESIGN.md § Storage). */
export function normalize(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * A 15-digit INS-NIR (13 digits + 2-digit key = 97 - n mod 97) that is
 * unique for each `serial` below 1,000,000 (the serial fills the commune
 * and order digits), the rest being plausible sex, birth year/month, department.
 */
export function insNir(serial: number, sex: '1' | '2', birth: Date, dept: string): string {
  const yy = String(birth.getUTCFullYear() % 100).padStart(2, '0');
  const mm = String(birth.getUTCMonth() + 1).padStart(2, '0');
  const d = /^\d\d$/.test(dept) ? dept : '99';
  const body = `${sex}${yy}${mm}${d}${String(serial % 1_000_000).padStart(6, '0')}`;
  const key = 97 - Number(BigInt(body) % 97n);
  return `${body}${String(key).padStart(2, '0')}`;
}

/** A patient as the benchmark knows it, to check search answers. */
export interface PatientSpec {
  ins: string;
  family: string;
  body: Record<string, unknown>;
}

/**
 * A realistic French Patient. `serial` must be unique per benchmark run
 * (the server allows one Patient per INS). `id` is included for updates.
 */
export function frenchPatient(r: () => number, serial: number, id?: string): PatientSpec {
  const female = r() < 0.5;
  const given = pick(r, female ? GIVEN_FEMALE : GIVEN_MALE);
  const family = pick(r, FAMILY_NAMES);
  const birth = new Date(Date.UTC(between(r, 1930, 2020), between(r, 0, 11), between(r, 1, 28)));
  const [postalCode, city, dept] = pick(r, CITIES);
  const ins = insNir(serial, female ? '2' : '1', birth, dept);
  const mobile = `+33 6 ${[0, 0, 0, 0].map(() => String(between(r, 0, 99)).padStart(2, '0')).join(' ')}`;
  const body: Record<string, unknown> = {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    identifier: [{ use: 'official', system: INS_NIR, value: ins }],
    active: true,
    name: [{ use: 'official', family, given: [given, ...(r() < 0.3 ? [pick(r, female ? GIVEN_FEMALE : GIVEN_MALE)] : [])] }],
    telecom: [
      { system: 'phone', value: mobile, use: 'mobile' },
      { system: 'email', value: `${normalize(given)}.${normalize(family).replace(/[^a-z]/g, '')}@exemple.fr`, use: 'home' },
    ],
    gender: female ? 'female' : 'male',
    birthDate: birth.toISOString().slice(0, 10),
    address: [{ use: 'home', line: [`${between(r, 1, 180)} ${pick(r, STREETS)}`], city, postalCode, country: 'FR' }],
    // The bench's médecin traitant: the loader, who reads everything back (bench/auth.ts).
    generalPractitioner: GENERAL_PRACTITIONER,
  };
  return { ins, family, body };
}
