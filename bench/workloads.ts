import type autocannon from 'autocannon';
import { between, frenchPatient, seededRandom } from './data';
import { auth, createResource, FHIR_JSON, runPool } from './http';
import type { Scenario } from './measure';

/**
 * The write and read workloads on Patient. Serial ranges keep every INS
 * unique within a run (at most one Patient per INS, DMP-RULES.md § 1): the
 * search data set uses serials from 1, the read pool 500,000+, the update
 * pool 550,000+, the create workload 600,000 to 999,999.
 */
const READ_POOL_SERIAL = 500_000;
const UPDATE_POOL_SERIAL = 550_000;
const CREATE_SERIAL = 600_000;
const CREATE_SERIAL_END = 1_000_000;

const JSON_HEADERS = { 'content-type': FHIR_JSON, accept: FHIR_JSON };

/**
 * `create`: POST /fhir/Patient with a new realistic body each time (new INS,
 * names, address, telecom), so validation and indexing do real work.
 */
export function createScenario(): Scenario {
  const r = seededRandom(7);
  let serial = CREATE_SERIAL;
  return {
    name: 'create',
    description: 'POST /fhir/Patient, new French patient each time (INS-NIR, accents, address, telecom)',
    requests: [
      {
        setupRequest: (req) => {
          const spec = frenchPatient(r, serial);
          serial = serial + 1 >= CREATE_SERIAL_END ? CREATE_SERIAL : serial + 1;
          return { ...req, method: 'POST', path: '/fhir/Patient', headers: { ...req.headers, ...JSON_HEADERS }, body: JSON.stringify(spec.body) };
        },
      },
    ],
  };
}

/** Creates `count` patients with serials from `serialBase`; returns their ids and bodies. */
async function createPatients(base: string, count: number, serialBase: number, concurrency: number): Promise<Array<{ id: string; body: Record<string, unknown> }>> {
  const r = seededRandom(serialBase);
  const out: Array<{ id: string; body: Record<string, unknown> }> = new Array(count);
  await runPool('Patient pool', count, concurrency, async (i) => {
    const spec = frenchPatient(r, serialBase + i);
    const id = await createResource(base, spec.body);
    out[i] = { id, body: { ...spec.body, id } };
  });
  return out;
}

/** `read`: GET /fhir/Patient/{id}, cycling through a pool of existing patients. */
export async function readScenario(base: string, poolSize: number, concurrency: number): Promise<Scenario> {
  const ids = (await createPatients(base, poolSize, READ_POOL_SERIAL, concurrency)).map((p) => p.id);
  let i = 0;
  return {
    name: 'read',
    description: `GET /fhir/Patient/{id} over ${poolSize} existing patients`,
    requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: `/fhir/Patient/${ids[i++ % ids.length]}` }) }],
  };
}

interface UpdateSlot {
  id: string;
  body: Record<string, unknown>;
  version: number;
  /** Version unknown (a non-2xx answer): the next request for this slot re-reads it. */
  stale: boolean;
}

function versionOf(headers: autocannon.Request['headers']): number | undefined {
  const raw = headers?.etag ?? headers?.ETag ?? headers?.Etag;
  const m = /^W\/"(\d+)"$/.exec(String(raw ?? ''));
  return m ? Number(m[1]) : undefined;
}

/**
 * `update`: PUT /fhir/Patient/{id} with If-Match, the full resource and a
 * changed phone number and address line. Each in-flight request holds one
 * patient ("slot") and learns the next version from the response's ETag, so
 * no two requests race on a patient and a 412 would be a server bug.
 *
 * autocannon resets the per-connection context after each request of a
 * one-request sequence, so the slot travels in the context only from
 * setupRequest to its onResponse, and goes back to a LIFO free list there;
 * as onResponse and the connection's next setupRequest run back to back,
 * a connection in practice keeps its own patient.
 */
export async function updateScenario(base: string, connections: number, concurrency: number): Promise<Scenario> {
  const r = seededRandom(11);
  const created = await createPatients(base, connections * 2, UPDATE_POOL_SERIAL, concurrency);
  const slots: UpdateSlot[] = created.map((p) => ({ id: p.id, body: p.body, version: 1, stale: false }));
  let free: number[] = [];
  type Ctx = { slot?: number; refresh?: boolean };

  const resync = async () => {
    // In-flight requests cut off at the end of the previous run may have been applied: re-read every version.
    await runPool('re-read versions', slots.length, concurrency, async (i) => {
      const slot = slots[i] as UpdateSlot;
      const res = await fetch(`${base}/Patient/${slot.id}`, { headers: { accept: FHIR_JSON, ...auth() } });
      await res.arrayBuffer();
      const v = versionOf({ etag: res.headers.get('etag') ?? undefined });
      if (res.status !== 200 || v === undefined) throw new Error(`GET Patient/${slot.id} -> ${res.status}, ETag ${res.headers.get('etag')}`);
      slot.version = v;
      slot.stale = false;
    });
    free = slots.map((_, i) => i).reverse();
  };

  return {
    name: 'update',
    description: 'PUT /fhir/Patient/{id} with If-Match, one patient per in-flight request, version from the last ETag',
    beforeRun: resync,
    requests: [
      {
        setupRequest: (req, context) => {
          const ctx = context as Ctx;
          const index = free.pop();
          if (index === undefined) throw new Error('update workload: no free patient (more in-flight requests than patients)');
          ctx.slot = index;
          const slot = slots[index] as UpdateSlot;
          if (slot.stale) {
            ctx.refresh = true;
            return { ...req, method: 'GET', path: `/fhir/Patient/${slot.id}` };
          }
          ctx.refresh = false;
          const telecom = slot.body.telecom as Array<{ value: string }>;
          (telecom[0] as { value: string }).value = `+33 6 ${between(r, 10, 99)} ${between(r, 10, 99)} ${between(r, 10, 99)} ${between(r, 10, 99)}`;
          return {
            ...req,
            method: 'PUT',
            path: `/fhir/Patient/${slot.id}`,
            headers: { ...req.headers, ...JSON_HEADERS, 'if-match': `W/"${slot.version}"` },
            body: JSON.stringify(slot.body),
          };
        },
        onResponse: (status, _body, context, headers) => {
          const ctx = context as Ctx;
          if (ctx.slot === undefined) return;
          const slot = slots[ctx.slot] as UpdateSlot;
          const v = versionOf(headers);
          if (status >= 200 && status < 300 && v !== undefined) {
            slot.version = v;
            slot.stale = false;
          } else {
            slot.stale = true;
          }
          free.push(ctx.slot);
        },
      },
    ],
  };
}
