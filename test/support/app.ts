import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { ResourceStore } from '../../src/store/port';
import type { StoreFixture } from './stores';

export const BASE_URL = 'https://dmp.test/fhir';

/** An app on a fresh store of one adapter, as the HTTP tests use it. */
export interface TestApp {
  app: Express;
  store: ResourceStore;
  close(): Promise<void>;
}

export async function openTestApp(fixture: StoreFixture, overrides: { maxBodyBytes?: number } = {}): Promise<TestApp> {
  const store = await fixture.open();
  const app = createApp({
    config: {
      baseUrl: BASE_URL,
      maxBodyBytes: overrides.maxBodyBytes ?? 1024 * 1024,
      defaultPageSize: 20,
      maxPageSize: 100,
    },
    store,
    logger: pino({ level: 'silent' }),
  });
  return { app, store, close: () => fixture.dispose(store) };
}

export const FHIR_JSON = 'application/fhir+json';
