#!/usr/bin/env node
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../fhir/definitions';
import { ConformanceLoadError, loadProfileRegistry } from '../fhir/profiles';
import { validateWithProfiles } from '../fhir/profiles/operations';
import { createValidator } from '../fhir/validation';

/** More files than this: a progress bar on stderr. */
const PROGRESS_FROM = 20;

const USAGE = `usage: dmp-fhir-validate [--profile URL]... [--no-implicit] file-or-folder...
Validates FHIR JSON resources offline with the server's own engine: base R4,
every profile in meta.profile and --profile, and the DMP profile of DMP types.
Prints one line per issue (file, severity, code, FHIRPath location, text) and
exits 1 when there is an error, 2 on bad usage.`;

function jsonFiles(path: string): string[] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .sort()
      .flatMap((n) => jsonFiles(join(path, n)));
  }
  return path.endsWith('.json') ? [path] : [];
}

/**
 * The offline validator for integrators (`bin: dmp-fhir-validate`).
 * @see https://hl7.org/fhir/R4/validation.html
 */
function main(): number {
  let args;
  try {
    args = parseArgs({ options: { profile: { type: 'string', multiple: true }, 'no-implicit': { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help || args.positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return args.values.help ? 0 : 2;
  }
  let files: string[];
  try {
    files = args.positionals.flatMap(jsonFiles);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  loadDefinitions();
  let registry;
  try {
    registry = loadProfileRegistry();
  } catch (err) {
    process.stderr.write(`${err instanceof ConformanceLoadError ? err.message : String(err)}\n`);
    return 2;
  }
  const base = createValidator();
  const bar = files.length > PROGRESS_FROM && process.stderr.isTTY ? new SingleBar({ stream: process.stderr }) : undefined;
  bar?.start(files.length, 0);
  const lines: string[] = [];
  let errorCount = 0;
  for (const file of files) {
    let issues: OperationOutcomeIssue[];
    try {
      const resource = JSON.parse(readFileSync(file, 'utf8')) as Resource;
      issues = validateWithProfiles(base, registry, resource, { implicit: !args.values['no-implicit'] }, args.values.profile ?? []);
    } catch (err) {
      issues = [{ severity: 'error', code: 'structure', details: { text: `not readable as JSON: ${(err as Error).message}` } }];
    }
    for (const i of issues) {
      errorCount += i.severity === 'error' || i.severity === 'fatal' ? 1 : 0;
      lines.push(`${file}: ${i.severity} ${i.code} ${i.expression?.join(', ') ?? '-'}: ${i.details?.text ?? i.diagnostics ?? ''}`);
    }
    bar?.increment();
  }
  bar?.stop();
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  process.stdout.write(`${files.length} file(s), ${errorCount} error(s)\n`);
  return errorCount > 0 ? 1 : 0;
}

process.exitCode = main();
