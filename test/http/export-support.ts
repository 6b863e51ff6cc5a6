import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import type { Express } from 'express';
import { tempDir } from '../support/temp-dirs';
import type { ExportSettings } from '../../src/fhir/export/jobs';

/** A fresh export directory and its settings. */
export function exportSettings(ttlSeconds = 3600, maxRunning = 4): ExportSettings {
  return { dir: tempDir('dmp-export-test-'), ttlSeconds, maxRunning };
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
}

const local = (url: string) => url.replace(/^https:\/\/dmp\.test/, '');

/** Kick-off, then poll until done; returns the status URL and the manifest. */
export async function runExport(app: Express, kickoffPath: string, bearer?: string): Promise<{ status: string; manifest: Manifest }> {
  const auth = (r: request.Test) => (bearer ? r.set('Authorization', bearer) : r);
  const kick = await auth(request(app).get(`/fhir/${kickoffPath}`).set('Prefer', 'respond-async').set('Accept', 'application/fhir+json'));
  if (kick.status !== 202) throw new Error(`kick-off ${kickoffPath}: ${kick.status} ${JSON.stringify(kick.body)}`);
  const status = local(kick.headers['content-location'] as string);
  // FerretDB answers each of the ~146 per-type queries of a system export slowly: allow minutes.
  for (const deadline = Date.now() + 240_000; Date.now() < deadline; ) {
    const res = await auth(request(app).get(status));
    if (res.status === 200) return { status, manifest: JSON.parse(res.text) as Manifest };
    if (res.status !== 202) throw new Error(`status ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('export did not finish');
}

/** The resources of every output file, by type. */
export async function download(app: Express, manifest: Manifest, bearer?: string): Promise<Map<string, Resource[]>> {
  const out = new Map<string, Resource[]>();
  for (const o of manifest.output) {
    const r = request(app).get(local(o.url));
    const res = await (bearer ? r.set('Authorization', bearer) : r).buffer(true).parse((resp, cb) => {
      let data = '';
      resp.on('data', (c: Buffer) => (data += c.toString('utf8')));
      resp.on('end', () => cb(null, data));
    });
    if (res.status !== 200) throw new Error(`download ${o.url}: ${res.status}`);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    const lines = (res.body as string).split('\n');
    expect(lines.pop()).toBe('');
    const resources = lines.map((l) => JSON.parse(l) as Resource);
    expect(resources).toHaveLength(o.count);
    for (const r of resources) expect(r.resourceType).toBe(o.type);
    out.set(o.type, resources);
  }
  return out;
}

export const refsOf = (files: Map<string, Resource[]>): string[] => [...files.values()].flat().map((r) => `${r.resourceType}/${r.id}`).sort();
