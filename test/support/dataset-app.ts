import type { Express } from 'express';
import { openTestApp, type TestApp } from './app';
import { loadDataset, PARALLEL_WRITES, type Dataset } from './dataset';
import type { StoreFixture } from './stores';

/** An app on one adapter, holding a generated data set (see dataset.ts). */
export interface DatasetApp {
  readonly app: Express;
  /** Each resource's server `meta.lastUpdated`, by `Type/id`. */
  readonly lastUpdated: Map<string, string>;
}

/**
 * Inside a describe block: opens an app on `fixture` and loads `ds` before
 * the block's tests, and throws it away after them. The returned object is
 * usable from the tests on.
 */
export function datasetApp(fixture: StoreFixture, ds: Dataset): DatasetApp {
  let t: TestApp | undefined;
  let lastUpdated = new Map<string, string>();
  beforeAll(async () => {
    t = await openTestApp(fixture);
    lastUpdated = await loadDataset(t.app, ds, PARALLEL_WRITES[fixture.name]);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });
  return {
    get app() {
      if (!t) throw new Error('datasetApp: used before beforeAll ran');
      return t.app;
    },
    get lastUpdated() {
      return lastUpdated;
    },
  };
}
