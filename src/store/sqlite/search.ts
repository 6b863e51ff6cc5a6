import type { SearchPage, SearchPlan } from '../../fhir/search/plan';
import type { SqliteStore } from './sqlite-store';

/**
 * Compiles a SearchPlan to SQL over the index tables and runs it.
 * @see https://hl7.org/fhir/R4/search.html
 */
export async function searchSqlite(_store: SqliteStore, _plan: SearchPlan): Promise<SearchPage> {
  throw new Error('not implemented yet');
}
