import { readFileSync } from 'node:fs';
import path from 'node:path';
import { measure, type LoadSettings, type Scenario, type WorkloadResult } from './measure';
import { decidePinning, reexecPinned, type Pinning } from './pinning';
import { printTable } from './report';
import { startServer } from './server';

/**
 * `npm run bench:profiles`: the cost of DMP profile validation, on a real
 * server process pinned to one core (same machinery as `npm run bench`):
 * `$validate` of a DMP DocumentReference against its profile, and creates of
 * DMP DocumentReferences and Patients with VALIDATE_DMP_PROFILES on, then off
 * (on the bench's baseline server entry: access control off, validation only).
 * Options: --duration S (default 10), --warmup S (3), --connections N (32), --no-pin,
 * --only name,name (workloads to run; a server is started only for the settings they need),
 * --server-node-arg FLAG (repeatable, e.g. --cpu-prof).
 */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const say = (s: string) => process.stdout.write(`${s}\n`);
const fixture = (name: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'fixtures/profiles', `${name}.json`), 'utf8')) as Record<string, unknown>;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Every value of a repeatable option (`--name a --name b`, or `--name=a`). */
function args(name: string): string[] {
  const flag = `--${name}`;
  return process.argv.flatMap((a, i) => {
    if (a.startsWith(`${flag}=`)) {
      return [a.slice(flag.length + 1)];
    }
    return a === flag && i + 1 < process.argv.length ? [process.argv[i + 1] as string] : [];
  });
}

const only = new Set(args('only').flatMap((s) => s.split(',')).filter((s) => s !== ''));
const selected = (s: Scenario) => only.size === 0 || only.has(s.name);

const HEADERS = { 'content-type': 'application/fhir+json' };

function scenarios(on: boolean): Scenario[] {
  const doc = fixture('documentreference-valid');
  const patient = fixture('patient-valid');
  const suffix = on ? 'profiles-on' : 'profiles-off';
  let n = 0;
  const list: Scenario[] = [
    {
      name: `create-docref-${suffix}`,
      description: `POST /fhir/DocumentReference, a valid DMP DocumentReference, VALIDATE_DMP_PROFILES=${on}`,
      requests: [{ method: 'POST', path: '/fhir/DocumentReference', headers: HEADERS, body: JSON.stringify(doc) }],
    },
    {
      name: `create-patient-${suffix}`,
      description: `POST /fhir/Patient, a DMP Patient with a unique test INS, VALIDATE_DMP_PROFILES=${on}`,
      requests: [
        {
          method: 'POST',
          path: '/fhir/Patient',
          headers: HEADERS,
          setupRequest: (req) => {
            n++;
            const ins = String(279035121500000 + n);
            const body = { ...patient, identifier: [{ ...(patient.identifier as object[])[0], value: ins }] };
            return { ...req, body: JSON.stringify(body) };
          },
        },
      ],
    },
  ];
  if (on) {
    list.unshift({
      name: 'validate-docref',
      description: 'POST /fhir/DocumentReference/$validate?profile=dmp-document-reference, a valid DMP DocumentReference (nothing stored)',
      requests: [
        {
          method: 'POST',
          path: '/fhir/DocumentReference/$validate?profile=https%3A%2F%2Fdmp.example%2Ffhir%2FStructureDefinition%2Fdmp-document-reference',
          headers: HEADERS,
          body: JSON.stringify(doc),
        },
      ],
    });
  }
  return list;
}

async function run(pinning: Pinning): Promise<void> {
  say(`DMP profile validation benchmark — ${new Date().toISOString()}; ${pinning.note}`);
  const results: WorkloadResult[] = [];
  for (const on of [true, false]) {
    if (!scenarios(on).some(selected)) {
      continue;
    }
    // The baseline entry (no authentication, no access control): this measures validation alone;
    // the fixture's DocumentReference names a Patient that is not stored, which the DMP rules would refuse.
    const server = await startServer({ store: 'sqlite', entry: 'baseline', pinning, nodeArgs: args('server-node-arg'), keepData: false, env: { VALIDATE_DMP_PROFILES: String(on) } });
    try {
      const load: LoadSettings = { connections: arg('connections', 32), duration: arg('duration', 10), warmup: arg('warmup', 3), serverCpuSeconds: server.cpuSeconds };
      for (const s of scenarios(on).filter(selected)) {
        const r = await measure(new URL(server.base).origin, s, load);
        results.push(r);
        say(`  ${r.name}: ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx} (${JSON.stringify(r.statusCodes)}), server CPU ${r.serverCpuPercent ?? '?'}%`);
      }
    } finally {
      await server.stop();
    }
  }
  printTable(results);
  const validate = results.find((r) => r.name === 'validate-docref');
  if (validate) {
    say(`$validate target >= 3000/s on one server core: ${validate.reqPerSec >= 3000 ? 'met' : 'MISSED'}`);
  }
}

const pinning = decidePinning(process.argv.includes('--no-pin'));
if (pinning.needsReexec) {
  void reexecPinned(pinning).then((code) => process.exit(code));
} else {
  run(pinning).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
