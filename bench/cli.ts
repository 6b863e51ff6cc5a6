import { parseArgs } from 'node:util';

/** Every workload the benchmark knows, in the order they run. */
export const WORKLOADS = [
  'search-token',
  'search-identifier',
  'search-family',
  'search-date',
  'search-include',
  'create',
  'read',
  'update',
  'acl-read',
  'acl-search',
  'acl-include',
  'export',
  'binary',
  'iti65-pdf',
  'lab-bundle',
  'iti67-ins',
  'transaction-50',
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];
/** The document sharing and lab workloads (bench/documents.ts). */
export const DOCUMENT_WORKLOADS: readonly WorkloadName[] = ['iti65-pdf', 'lab-bundle', 'iti67-ins', 'transaction-50'];

/** Benchmark settings, from the command line (see bench/README.md). */
export interface BenchOptions {
  /** Measured seconds per workload. */
  duration: number;
  /** Warm-up seconds per workload (not counted). */
  warmup: number;
  connections: number;
  /** Resources stored before the search workloads. */
  resources: number;
  /** DocumentReferences stored before the ITI-67 workload. */
  documents: number;
  /** Concurrent POSTs while loading the search data set. */
  loadConcurrency: number;
  only: WorkloadName[];
  store: 'sqlite' | 'mongo';
  mongodbUrl?: string;
  /** Skip `taskset` even when it exists. */
  noPin: boolean;
  /** Where results-<timestamp>.json is written. */
  outDir: string;
  /** Extra arguments for the server's node (e.g. --cpu-prof). */
  serverNodeArgs: string[];
  /** Keep the temporary data directory / Mongo database after the run. */
  keepData: boolean;
  /** Interleaved rounds of the access-control comparison (acl-compare.ts). */
  rounds: number;
}

/** A wrong command line or setting: reported as a one-line message, without a stack. */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

const USAGE = `Usage: npm run bench -- [options]
  --duration <s>          measured seconds per workload (default 10)
  --warmup <s>            warm-up seconds per workload (default 3)
  --connections <n>       concurrent connections (default 48)
  --resources <n>         resources loaded for the search workloads (default 100000)
  --documents <n>         DocumentReferences loaded for iti67-ins (default 100000)
  --load-concurrency <n>  parallel POSTs while loading (default 64)
  --only <list>           comma-separated subset of: ${WORKLOADS.join(', ')}
                          (also: "search" = every search workload, "crud" = create,read,update,
                          "acl" = acl-read,acl-search,acl-include: an authorised pharmacist, access
                          control on, with the audit off, and all off, in interleaved rounds,
                          "documents" = iti65-pdf,lab-bundle,iti67-ins,transaction-50)
  --rounds <n>            interleaved rounds of the acl comparison (default 3; the medians are reported)
  --store <sqlite|mongo>  store of the server (default sqlite, fresh temp DATA_DIR)
  --mongodb-url <url>     MongoDB URL for --store mongo (loopback only; a fresh database is used)
  --no-pin                do not pin with taskset
  --server-node-arg <a>   extra node flag for the server, repeatable (e.g. --cpu-prof)
  --keep-data             keep the temporary DATA_DIR / MongoDB database
  --out-dir <dir>         results directory (default .bench)
  --help`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new BenchError(`--${name} must be a positive integer (got "${raw}")`);
  }
  return n;
}

function expandOnly(raw: string | undefined): WorkloadName[] {
  if (!raw) return [...WORKLOADS];
  const wanted = new Set<string>();
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part === 'search') WORKLOADS.filter((w) => w.startsWith('search-')).forEach((w) => wanted.add(w));
    else if (part === 'crud') ['create', 'read', 'update'].forEach((w) => wanted.add(w));
    else if (part === 'acl') WORKLOADS.filter((w) => w.startsWith('acl-')).forEach((w) => wanted.add(w));
    else if (part === 'documents') DOCUMENT_WORKLOADS.forEach((w) => wanted.add(w));
    else if ((WORKLOADS as readonly string[]).includes(part)) wanted.add(part);
    else throw new BenchError(`--only: unknown workload "${part}" (known: ${WORKLOADS.join(', ')}, search, crud, acl, documents)`);
  }
  // Keep the canonical order: searches first, on a data set nobody else has touched yet.
  return WORKLOADS.filter((w) => wanted.has(w));
}

/** The benchmark talks to loopback only: refuse anything else rather than load a shared machine by mistake. */
function assertLoopbackMongo(raw: string): string {
  let host: string;
  try {
    host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new BenchError(`--mongodb-url is not a URL: ${raw}`);
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    throw new BenchError(`--mongodb-url must point at a loopback address (127.0.0.1, localhost, ::1), got "${host}"`);
  }
  return raw;
}

/**
 * Parses the command line with node's `util.parseArgs`. Returns undefined
 * when --help was asked (usage already printed).
 */
export function parseOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      resources: { type: 'string' },
      documents: { type: 'string' },
      'load-concurrency': { type: 'string' },
      only: { type: 'string' },
      store: { type: 'string' },
      'mongodb-url': { type: 'string' },
      'no-pin': { type: 'boolean' },
      'server-node-arg': { type: 'string', multiple: true },
      'keep-data': { type: 'boolean' },
      rounds: { type: 'string' },
      'out-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return undefined;
  }
  const store = values.store ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'mongo') {
    throw new BenchError(`--store must be sqlite or mongo (got "${store}")`);
  }
  if (store === 'mongo' && !values['mongodb-url']) {
    throw new BenchError('--store mongo needs --mongodb-url mongodb://127.0.0.1:PORT');
  }
  const warmupRaw = values.warmup;
  const warmup = warmupRaw === '0' ? 0 : positiveInt('warmup', warmupRaw, 3);
  return {
    duration: positiveInt('duration', values.duration, 10),
    warmup,
    connections: positiveInt('connections', values.connections, 48),
    resources: positiveInt('resources', values.resources, 100_000),
    documents: positiveInt('documents', values.documents, 100_000),
    loadConcurrency: positiveInt('load-concurrency', values['load-concurrency'], 64),
    only: expandOnly(values.only),
    store,
    mongodbUrl: store === 'mongo' ? assertLoopbackMongo(values['mongodb-url'] as string) : undefined,
    noPin: values['no-pin'] ?? false,
    outDir: values['out-dir'] ?? '.bench',
    serverNodeArgs: values['server-node-arg'] ?? [],
    keepData: values['keep-data'] ?? false,
    rounds: positiveInt('rounds', values.rounds, 3),
  };
}
