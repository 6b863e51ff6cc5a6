import { BenchError } from './cli';

/**
 * The few HTTP calls the benchmark makes outside autocannon (loading data,
 * checking search answers), with node's fetch, which keeps connections alive.
 */

export const FHIR_JSON = 'application/fhir+json';

/** `Authorization` sent by createResource and getJson (the loader's token); none for the baseline server. */
let authorization: string | undefined;
export function useAuthorization(value: string | undefined): void {
  authorization = value;
}
/** The loader's `Authorization` header, for requests made outside createResource / getJson. */
export const auth = (): Record<string, string> => (authorization ? { authorization } : {});

/** A minimal Bundle view, enough to check search answers. */
export interface SearchBundle {
  resourceType: 'Bundle';
  total?: number;
  entry?: Array<{ resource?: { resourceType: string; id: string; [k: string]: unknown }; search?: { mode?: string } }>;
  link?: Array<{ relation: string; url: string }>;
}

async function failure(what: string, res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  return new BenchError(`${what} -> HTTP ${res.status}: ${text.slice(0, 600)}`);
}

/** POSTs a resource and returns the id the server gave it (from Location, else from the body). */
export async function createResource(base: string, body: Record<string, unknown>): Promise<string> {
  const type = body.resourceType as string;
  const res = await fetch(`${base}/${type}`, {
    method: 'POST',
    headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON, prefer: 'return=minimal', ...auth() },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw await failure(`POST ${type}`, res);
  const location = res.headers.get('location') ?? '';
  const m = new RegExp(`/${type}/([^/]+)/_history/`).exec(location);
  if (m) {
    await res.arrayBuffer();
    return m[1] as string;
  }
  const json = (await res.json()) as { id?: string };
  if (!json.id) throw new Error(`POST ${type}: no id in Location (${location}) nor in the body`);
  return json.id;
}

/** GETs a URL under the FHIR base and parses the JSON answer; anything but 200 throws. */
export async function getJson<T = unknown>(base: string, relative: string): Promise<T> {
  const res = await fetch(`${base}/${relative}`, { headers: { accept: FHIR_JSON, ...auth() } });
  if (res.status !== 200) throw await failure(`GET ${relative}`, res);
  return (await res.json()) as T;
}

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight,
 * printing progress every 5 s. The first failure stops everything.
 */
export async function runPool(label: string, count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let done = 0;
  const started = Date.now();
  const ticker = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    process.stdout.write(`  ${label}: ${done}/${count} (${Math.round(done / s)}/s)\n`);
  }, 5000);
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < count) {
      const i = next++;
      try {
        await task(i);
        done++;
      } catch (err) {
        failed ??= err;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    clearInterval(ticker);
  }
  if (failed !== undefined) throw failed;
}
