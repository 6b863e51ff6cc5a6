import type { SearchPage, SearchPlan } from '../../fhir/search/plan';
import type { HistoryPage, HistoryQuery, ResourceStore, VersionRecord, VersionWrite } from '../port';

export interface MongoOptions {
  url: string;
  dbName: string;
}

/** MongoDB adapter (placeholder until implemented). */
export class MongoStore implements ResourceStore {
  readonly kind = 'mongo' as const;
  constructor(readonly options: MongoOptions) {}
  async init(): Promise<void> {
    throw new Error('not implemented yet');
  }
  async close(): Promise<void> {}
  async dropDatabase(): Promise<void> {}
  async readCurrent(_t: string, _i: string): Promise<VersionRecord | undefined> {
    throw new Error('not implemented yet');
  }
  async readVersion(_t: string, _i: string, _v: number): Promise<VersionRecord | undefined> {
    throw new Error('not implemented yet');
  }
  async readMany(_t: string, _i: readonly string[]): Promise<VersionRecord[]> {
    throw new Error('not implemented yet');
  }
  async write(_w: VersionWrite): Promise<void> {
    throw new Error('not implemented yet');
  }
  async history(_q: HistoryQuery): Promise<HistoryPage> {
    throw new Error('not implemented yet');
  }
  async search(_p: SearchPlan): Promise<SearchPage> {
    throw new Error('not implemented yet');
  }
}
