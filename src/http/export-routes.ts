import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Request, Response, Router } from 'express';
import type { RequestContext } from '../fhir/context';
import type { ExportLevel } from '../access/export';
import { ExportJobs, type ExportJob } from '../fhir/export/jobs';
import { parseExportParams } from '../fhir/export/params';
import { errors, FhirError, informational, issue, outcome } from '../fhir/outcomes';
import type { FhirService } from '../fhir/service';
import { preferences } from './negotiate';
import { queryParams } from './request';
import { sendJson, sendOutcome } from './respond';

/** Where the status of job `id` is polled (the kick-off's `Content-Location`). */
const STATUS_PATH = '/_export';

/**
 * Whether a path may be one of exportRoutes' (`$export` at any level,
 * `$everything`, the status and files under `/_export`).
 */
export function isExportPath(req: Request): boolean {
  const path = req.path;
  return path.startsWith(`${STATUS_PATH}/`) || path.includes('/$export') || path.includes('/$everything');
}

/**
 * `Patient/{id}/$everything` and Bulk Data `$export` (kick-off at system,
 * `Patient`, `Patient/{id}` and `Group/{id}` level; status polling, file
 * download and cancel under `/_export/{job}`). Thin: the decisions and the
 * audit are FhirService's, the files ExportJobs'.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 */
export function exportRoutes(
  router: Router,
  opts: { service: FhirService; jobs?: ExportJobs; baseUrl: string; maxCount: number; ctx: (req: Request, res: Response) => RequestContext },
): void {
  const { service, baseUrl, ctx } = opts;
  router.get('/Patient/:id/$everything', async (req, res) => {
    sendJson(req, res, 200, await service.everything(ctx(req, res), req.params.id as string, queryParams(req), preferences(req).lenient));
  });
  router.all('/Patient/:id/$everything', () => {
    throw errors.methodNotAllowed('Use GET for $everything');
  });

  const jobsOf = (): ExportJobs => {
    if (!opts.jobs) throw errors.notSupported('Bulk export is not configured on this server');
    return opts.jobs;
  };
  const kickoff = (level: ExportLevel) => async (req: Request, res: Response) => {
    const jobs = jobsOf();
    if (!/(^|[,;\s])respond-async($|[,;\s])/.test(String(req.headers.prefer ?? ''))) {
      throw errors.badRequest('A bulk export runs asynchronously: send Prefer: respond-async');
    }
    const c = ctx(req, res);
    const params = parseExportParams(queryParams(req), { baseUrl, maxCount: opts.maxCount }, preferences(req).lenient);
    const url = `${baseUrl}${req.originalUrl.replace(/^\/fhir/, '')}`;
    const id = await service.exportKickoff(c, { level, patientId: req.params.id as string | undefined, params, url }, (source, owner) => jobs.start(owner, url, source));
    res.setHeader('Content-Location', `${baseUrl}${STATUS_PATH}/${id}`);
    sendOutcome(req, res, 202, informational(`Export started: poll ${baseUrl}${STATUS_PATH}/${id}`));
  };
  router.get('/$export', kickoff('system'));
  router.get('/Patient/$export', kickoff('all-patients'));
  router.get('/Group/:id/$export', kickoff('group'));
  router.get('/Patient/:id/$export', kickoff('patient'));
  for (const p of ['/$export', '/Patient/$export', '/Group/:id/$export', '/Patient/:id/$export']) {
    router.all(p, () => {
      throw errors.methodNotAllowed('Use GET for the $export kick-off');
    });
  }

  /** The caller's job, within one audited interaction; unknown, expired and someone else's are the same 404. */
  const step = <T>(req: Request, res: Response, operation: string, run: (job: ExportJob, jobs: ExportJobs) => Promise<T>) => {
    const jobs = jobsOf();
    const c = ctx(req, res);
    return service.exportStep(
      c,
      operation,
      (owner) => jobs.find(owner, req.params.job as string),
      (job) => run(job, jobs),
    );
  };

  router.get(`${STATUS_PATH}/:job`, async (req, res) => {
    const job = await step(req, res, 'export-status', async (j) => j);
    if (job.state === 'running') {
      res.setHeader('X-Progress', jobsOf().progress(job.id));
      res.setHeader('Retry-After', '2');
      res.status(202).end();
      return;
    }
    if (job.state === 'failed') throw new FhirError(500, outcome(issue('exception', job.error ?? 'The export failed')));
    res.setHeader('Expires', new Date(job.expiresAt).toUTCString());
    res.status(200).type('application/json; charset=utf-8').send(JSON.stringify(manifest(job, baseUrl)));
  });
  router.delete(`${STATUS_PATH}/:job`, async (req, res) => {
    await step(req, res, 'export-cancel', (job, jobs) => jobs.cancel(job));
    sendOutcome(req, res, 202, informational('Export cancelled; its files are deleted'));
  });
  router.get(`${STATUS_PATH}/:job/:file`, async (req, res) => {
    const file = await step(req, res, 'export-download', async (job, jobs) => {
      const p = jobs.filePath(job, req.params.file as string);
      if (!p) throw errors.notFound('No such file in this export');
      // Opened inside the interaction: a file removed meanwhile (expiry, cancel) is a 404, not a broken stream.
      try {
        return { stream: fs.createReadStream(p, { fd: fs.openSync(p, 'r') }), size: fs.statSync(p).size };
      } catch {
        throw errors.notFound('No such file in this export');
      }
    });
    res.status(200).type('application/fhir+ndjson').setHeader('Content-Length', String(file.size));
    // A client that goes away mid-download only ends its own stream.
    await pipeline(file.stream, res).catch(() => res.destroy());
  });
}

/**
 * The completion manifest.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html#response---complete-status
 */
function manifest(job: ExportJob, baseUrl: string) {
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: true,
    output: job.outputs.map((o) => ({ type: o.type, url: `${baseUrl}${STATUS_PATH}/${job.id}/${o.file}`, count: o.count })),
    error: [],
  };
}
