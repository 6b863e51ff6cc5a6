import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { aclWorkloads, authorisePharmacist } from './acl';
import { compareAccessControl, measureOn, type AclComparison } from './acl-compare';
import { binaryWorkload, type BinaryResult } from './binary';
import { waitForOutbox } from './outbox';
import { createBenchAuth, type BenchAuth } from './auth';
import { useAuthorization } from './http';
import { BenchError, DOCUMENT_WORKLOADS, parseOptions, type BenchOptions, type WorkloadName } from './cli';
import { loadDataSet, type DataSet } from './dataset';
import { measure, type LoadSettings, type Scenario, type WorkloadResult } from './measure';
import { decidePinning, reexecPinned, type Pinning } from './pinning';
import { machineInfo, printTable, targetMet, TARGETS, writeJson } from './report';
import { searchScenario, searchWorkloads } from './search-workloads';
import { startServer, type RunningServer } from './server';
import { verifySearches } from './verify';
import { runExportWorkload, type ExportResult } from './export';
import { createScenario, readScenario, updateScenario } from './workloads';
import { iti65Scenario, iti67Scenario, LAB_BUNDLE_RESOURCES, labScenario, loadDocuments, TRANSACTION_RESOURCES, transactionScenario, verifyDocuments } from './documents';

/**
 * `npm run bench`: starts a real server process (one core, fresh store),
 * loads a search data set through the HTTP API, checks the searches return
 * what was stored, then measures each workload with autocannon and prints
 * req/s and p50/p95/p99 next to the targets. See bench/README.md.
 */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const READ_POOL = 1000;
/** The `aud` of the bench's tokens (the servers trust it through AUTH_AUDIENCE). */
const BENCH_AUDIENCE = 'https://bench.dmp.invalid/fhir';

const say = (s: string) => process.stdout.write(`${s}\n`);

function summary(r: WorkloadResult): string {
  const met = targetMet(r);
  if (r.responses === 0) return `  ${r.name}: NO RESPONSE in ${r.durationSeconds} s (errors ${r.errors}, timeouts ${r.timeouts})`;
  return `  ${r.name}: ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.latencyMs.p50} ms, p95 ${r.latencyMs.p95} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}; server CPU ${r.serverCpuPercent ?? '?'}% (${r.reqPerServerCpuSecond ?? '?'} req per CPU-s), bench CPU ${r.clientCpuPercent}%, load ${r.loadAverage1m}${met === undefined ? '' : met ? ' (target met)' : ' (target MISSED)'}`;
}

async function loadData(server: RunningServer, opts: BenchOptions): Promise<DataSet> {
  say(`\nLoading the search data set (~${opts.resources} resources, ${opts.loadConcurrency} parallel POSTs, as the patients' médecin traitant)...`);
  const ds = await loadDataSet(server.base, opts.resources, opts.loadConcurrency);
  say(`Loaded ${ds.total} resources in ${ds.loadSeconds.toFixed(1)} s (${Math.round(ds.total / ds.loadSeconds)} creates/s): ${JSON.stringify(ds.counts)}`);
  return ds;
}

async function runSearches(server: RunningServer, ds: DataSet, names: WorkloadName[], load: LoadSettings, results: WorkloadResult[], authorization: string): Promise<void> {
  const workloads = searchWorkloads(ds, names);
  // Check every search before timing any: a fast wrong answer is not a result.
  for (const w of workloads) {
    await verifySearches(server.base, w);
    say(`  verified ${w.name}: sample answers match the stored data`);
  }
  for (const w of workloads) {
    say(`\n${w.name}: ${w.description}`);
    const r = await measure(new URL(server.base).origin, { ...searchScenario(w), authorization }, load);
    results.push(r);
    say(summary(r));
  }
}

async function runCrud(server: RunningServer, opts: BenchOptions, names: WorkloadName[], load: LoadSettings, results: WorkloadResult[], authorization: string): Promise<void> {
  for (const name of names) {
    let scenario: Scenario;
    if (name === 'create') scenario = createScenario();
    else if (name === 'read') scenario = await readScenario(server.base, READ_POOL, opts.loadConcurrency);
    else scenario = await updateScenario(server.base, opts.connections, opts.loadConcurrency);
    scenario.authorization = authorization;
    say(`\n${name}: ${scenario.description}`);
    const r = await measure(new URL(server.base).origin, scenario, load);
    results.push(r);
    say(summary(r));
  }
}

/** The document sharing and lab workloads (bench/documents.ts); the ITI-67 one over its own loaded document set. */
async function runDocuments(server: RunningServer, opts: BenchOptions, names: WorkloadName[], load: LoadSettings, results: WorkloadResult[], authorization: string): Promise<void> {
  for (const name of names) {
    let scenario: Scenario;
    if (name === 'iti65-pdf') scenario = await iti65Scenario(server.base, REPO_ROOT, opts.loadConcurrency);
    else if (name === 'lab-bundle') scenario = await labScenario(server.base, opts.loadConcurrency);
    else if (name === 'transaction-50') scenario = await transactionScenario(server.base, opts.loadConcurrency);
    else {
      say(`\nLoading the ITI-67 document set (~${opts.documents} DocumentReferences, transactions of 100)...`);
      const set = await loadDocuments(server.base, opts.documents, opts.loadConcurrency);
      say(`Loaded ${set.total} documents of ${set.patients.length} patients in ${set.loadSeconds.toFixed(1)} s (${Math.round(set.total / set.loadSeconds)} documents/s)`);
      await verifyDocuments(server.base, set);
      say('  verified iti67-ins: sample answers are exactly the current documents of the patient');
      await waitForOutbox(server.dataDir, say);
      scenario = iti67Scenario(set);
    }
    scenario.authorization = authorization;
    say(`\n${name}: ${scenario.description}`);
    const r = await measure(new URL(server.base).origin, scenario, load);
    results.push(r);
    say(summary(r));
    if (name === 'lab-bundle') say(`  = ${Math.round(r.reqPerSec * LAB_BUNDLE_RESOURCES)} resources/s`);
    if (name === 'transaction-50') say(`  = ${Math.round(r.reqPerSec * TRANSACTION_RESOURCES)} resources/s`);
  }
}

async function bench(opts: BenchOptions, pinning: Pinning): Promise<void> {
  const machine = machineInfo();
  say(`DMP FHIR server benchmark — ${new Date().toISOString()}`);
  say(`Machine: ${machine.cpusOnline} CPUs online (nproc), ${machine.cpuModel}, ${machine.totalMemoryMb} MB RAM, load average ${machine.loadAverage.join(' ')}, node ${machine.node}, commit ${machine.gitCommit ?? '?'}${machine.gitDirty ? ' (working tree modified)' : ''}`);
  say(`Pinning: ${pinning.note}`);
  say(`Store: ${opts.store}; workloads: ${opts.only.join(', ')}; ${opts.connections} connections, pipelining 1, ${opts.warmup} s warm-up + ${opts.duration} s measured each`);

  const auth = await createBenchAuth(BENCH_AUDIENCE);
  useAuthorization(auth.gp);
  // A DATA_DIR of our own, kept between the access-on server and the baseline server (same data for both).
  const dataDir = opts.store === 'sqlite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-bench-')) : undefined;
  const serverOpts = { store: opts.store, mongodbUrl: opts.mongodbUrl, pinning, nodeArgs: opts.serverNodeArgs, keepData: opts.keepData, dataDir };
  let server = await startServer({ ...serverOpts, entry: 'server', env: auth.env });
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the server...\n`);
    void server.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  say(`Server: pid ${server.pid}, ${server.base}, data in ${server.dataLocation}`);

  const load: LoadSettings = { connections: opts.connections, duration: opts.duration, warmup: opts.warmup, serverCpuSeconds: server.cpuSeconds };
  const results: WorkloadResult[] = [];
  let dataset: DataSet | undefined;
  let exportResult: ExportResult | undefined;
  try {
    const searches = opts.only.filter((n) => n.startsWith('search-'));
    const acl = opts.only.filter((n) => n.startsWith('acl-'));
    const exporting = opts.only.includes('export');
    if (searches.length + acl.length > 0 || exporting) dataset = await loadData(server, opts);
    if (searches.length > 0) await runSearches(server, dataset as DataSet, searches, load, results, auth.gp);
    await waitForOutbox(server.dataDir, say);
    await runCrud(server, opts, opts.only.filter((n) => ['create', 'read', 'update'].includes(n)), load, results, auth.gp);
    await runDocuments(server, opts, opts.only.filter((n) => DOCUMENT_WORKLOADS.includes(n)), load, results, auth.gp);
    let binary: BinaryResult | undefined;
    if (opts.only.includes('binary')) {
      say(`\nbinary: raw POST /fhir/Binary of 10 MB for ${opts.duration} s, then GET of those Binaries for ${opts.duration} s (2 in flight)`);
      binary = await binaryWorkload(server.base, auth.gp, opts.duration);
      say(`  binary: upload ${binary.uploadMbPerSec.toFixed(1)} MB/s (${binary.uploads} x 10 MB, p50 ${binary.uploadP50Ms} ms), download ${binary.downloadMbPerSec.toFixed(1)} MB/s (${binary.downloads} x 10 MB, p50 ${binary.downloadP50Ms} ms), failures ${binary.failures}`);
    }
    let memory = server.memory();
    let aclComparisons: AclComparison[] | undefined;
    if (acl.length > 0) {
      ({ server, comparisons: aclComparisons } = await runAccessControl(server, { ...serverOpts, entry: 'baseline' }, dataset as DataSet, acl, auth, opts, load, results));
      memory = server.memory() ?? memory;
    }

    if (exporting && opts.store === 'sqlite') {
      // A fresh process on the same data, so that its peak RSS is the export's (see bench/export.ts).
      await waitForOutbox(server.dataDir, say);
      await server.stop();
      say('\n$export: system-level export of the whole data set, on a fresh baseline server');
      server = await startServer({ ...serverOpts, entry: 'baseline' });
      exportResult = await runExportWorkload(server, dataset as DataSet, say);
    } else if (exporting) {
      say('\n$export: measured on the embedded store only (a fresh server process on the same data).');
    }

    printTable(results);
    const comparable = opts.store === 'sqlite' && pinning.pinned;
    say(`\nTargets are for the embedded store, one server core, validation on${comparable ? '.' : ` — this run is ${opts.store}${pinning.pinned ? '' : ', unpinned'}: indicative only.`}`);
    const missed = results.filter((r) => targetMet(r) === false).map((r) => r.name);
    const checked = results.filter((r) => TARGETS[r.name]).length;
    say(checked === 0 ? 'No workload with a target was run.' : missed.length === 0 ? 'All targets met.' : `Targets missed: ${missed.join(', ')}.`);
    say(`Server memory at the end: RSS ${memory ? memory.rssMb.toFixed(0) : '?'} MB (peak ${memory ? memory.peakRssMb.toFixed(0) : '?'} MB).`);
    say(`Machine: ${machine.cpusOnline} CPUs (${machine.cpuModel}); ${pinning.note}. Other processes on this machine add noise: run several times and compare medians.`);

    const file = writeJson(path.resolve(REPO_ROOT, opts.outDir), {
      date: new Date().toISOString(),
      machine,
      pinning: { pinned: pinning.pinned, serverCpu: pinning.serverCpu, clientCpu: pinning.clientCpu, note: pinning.note },
      settings: { ...opts },
      dataSet: dataset ? { total: dataset.total, counts: dataset.counts, loadSeconds: dataset.loadSeconds } : undefined,
      targets: TARGETS,
      results: results.map((r) => ({ ...r, target: TARGETS[r.name]?.text, targetMet: targetMet(r) })),
      export: exportResult,
      accessControl: aclComparisons,
      serverMemoryMb: memory,
      binary,
    });
    say(`Results written to ${path.relative(process.cwd(), file) || file}`);
  } finally {
    await server.stop();
    auth.dispose();
    if (dataDir && !opts.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The access-control workloads: on the embedded store, the interleaved
 * comparison of acl-compare.ts (everything on, no audit, all off); on
 * MongoDB, the pharmacist's workloads with everything on only (the targets
 * are for the embedded store). Returns the server left running.
 */
async function runAccessControl(
  loadingServer: RunningServer,
  serverOpts: Parameters<typeof startServer>[0],
  ds: DataSet,
  names: WorkloadName[],
  auth: BenchAuth,
  opts: BenchOptions,
  load: LoadSettings,
  results: WorkloadResult[],
): Promise<{ server: RunningServer; comparisons?: AclComparison[] }> {
  say('\nAccess control: the pharmacist records his Consent on every patient...');
  await authorisePharmacist(loadingServer.base, ds, auth, opts.loadConcurrency);
  const workloads = await aclWorkloads(loadingServer.base, ds, names, auth);
  say("  verified: the pharmacist's answers match the stored data");
  if (opts.store === 'sqlite') {
    const c = await compareAccessControl(loadingServer, serverOpts, workloads, auth, opts, load, say);
    results.push(...c.results);
    return { server: c.server, comparisons: c.comparisons };
  }
  for (const w of workloads) {
    say(`\n${w.name} (access control on)`);
    const r = await measureOn(loadingServer, w, 'on', auth, load);
    results.push(r);
    say(summary(r));
  }
  say('\nThe baseline comparison runs on the embedded store only (the target is for it).');
  return { server: loadingServer };
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (!opts) return 0;
  const pinning = decidePinning(opts.noPin);
  if (pinning.needsReexec) return reexecPinned(pinning);
  await bench(opts, pinning);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Expected failures (bad options, server that does not start, wrong search answers) need no stack trace.
    const text = err instanceof BenchError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err);
    process.stderr.write(`\nBenchmark failed: ${text}\n`);
    process.exit(1);
  },
);
