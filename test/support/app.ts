import type { Express } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp, type AppDeps } from '../../src/app';
import type { ResourceStore } from '../../src/store/port';
import type { ExportSettings } from '../../src/fhir/export/jobs';
import type { StoreFixture } from './stores';

export const BASE_URL = 'https://dmp.test/fhir';

/** An app on a fresh store of one adapter, as the HTTP tests use it. */
export interface TestApp {
  app: Express;
  store: ResourceStore;
  close(): Promise<void>;
}

export async function openTestApp(
  fixture: StoreFixture,
  overrides: { maxBodyBytes?: number; validateDmpProfiles?: boolean; bundleMaxEntries?: number; export?: ExportSettings; binaryMaxBytes?: number } = {},
): Promise<TestApp> {
  const store = await fixture.open();
  const app = createApp({
    config: {
      baseUrl: BASE_URL,
      maxBodyBytes: overrides.maxBodyBytes ?? 1024 * 1024,
      defaultPageSize: 20,
      maxPageSize: 100,
      bundleMaxEntries: overrides.bundleMaxEntries,
      export: overrides.export,
      binaryMaxBytes: overrides.binaryMaxBytes,
    },
    store,
    logger: pino({ level: 'silent' }),
    // The REST-core and search tests exercise FHIR behaviour; access control has its own tests (test/access).
    withoutAccessControl: true,
    validateDmpProfiles: overrides.validateDmpProfiles,
  });
  return { app, store, close: () => fixture.dispose(store) };
}

export const FHIR_JSON = 'application/fhir+json';

/** An app with authentication and access control on, over `store` (tests of authentication itself). */
export function securedApp(store: ResourceStore, extra: Pick<AppDeps, 'authenticator' | 'security'>): Express {
  return createApp({
    config: { baseUrl: BASE_URL, maxBodyBytes: 1024 * 1024, defaultPageSize: 20, maxPageSize: 100 },
    store,
    logger: pino({ level: 'silent' }),
    ...extra,
  });
}

/**
 * Serves `app` on a loopback port for tests that send many requests (supertest
 * otherwise opens a server per request) or need requests truly in flight together.
 */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
