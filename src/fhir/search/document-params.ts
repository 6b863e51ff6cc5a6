import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SearchParameter } from '@medplum/fhirtypes';

/**
 * The SearchParameters of IHE MHD 4.2.3 and PDSm 3.1.1 that the document
 * sharing transactions need (ITI-67 Find Document References, ITI-66 Find
 * Lists) and base R4 lacks, read from the vendored PDSm combined package
 * (profiles/vendor/pdsm-combined, unmodified). They are registered with the
 * base R4 definitions (definitions.ts), so the indexer extracts them at
 * write time on both stores, the search parser knows them and the
 * CapabilityStatement lists them, exactly like R4's own.
 *
 * Left out on purpose: PDSm-List-PatientAsSubject (`patient`),
 * PDSm-List-PatientAsSource and PDSm-List-PractitionerRoleAsSource (both
 * `source`). Their codes and expressions are those of base R4's List
 * `patient` and `source`, which already answer them (R4's targets are a
 * superset); registering them would replace the R4 definitions of the same
 * code (one definition per code and type).
 * @see https://profiles.ihe.net/ITI/MHD/ITI-67.html
 * @see https://interop.esante.gouv.fr/ig/fhir/pdsm/
 */
export const DOCUMENT_SEARCH_PARAMETER_FILES = [
  'SearchParameter-DocumentReference-Creation-4.2.3.json',
  'SearchParameter-List-DesignationType-4.2.3.json',
  'SearchParameter-List-SourceId-4.2.3.json',
  'SearchParameter-PDSm-DocumentReference-period-start-3.1.1.json',
  'SearchParameter-PDSm-DocumentReference-period-end-3.1.1.json',
  'SearchParameter-PDSm-List-authorOrg-3.1.1.json',
  'SearchParameter-PDSm-isArchived-3.1.1.json',
] as const;

/** The project root (src/fhir/search or dist/src/fhir/search below it). */
function vendorDir(): string {
  const up = __dirname.includes(`${join('dist', 'src')}`) ? ['..', '..', '..', '..'] : ['..', '..', '..'];
  return join(__dirname, ...up, 'profiles', 'vendor', 'pdsm-combined');
}

/** Loads the document SearchParameters (a missing or malformed file is a packaging bug: it throws, naming the file). */
export function documentSearchParameters(dir = vendorDir()): SearchParameter[] {
  return DOCUMENT_SEARCH_PARAMETER_FILES.map((file) => {
    const sp = JSON.parse(readFileSync(join(dir, file), 'utf8')) as SearchParameter;
    if (sp.resourceType !== 'SearchParameter' || !sp.code || !sp.expression || !sp.url) {
      throw new Error(`${file} is not a usable SearchParameter`);
    }
    return sp;
  });
}
