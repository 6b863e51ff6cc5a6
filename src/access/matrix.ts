import Ajv from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { DocType } from './codes';

/**
 * The profession matrix of DMP-RULES.md § 6: which document types each
 * profession (TRE_G15) may read, and which document type a structured
 * resource counts as. It ships as data (terminology/access/matrix.json) that
 * an operator may replace; a bad file stops start-up.
 */
export interface AccessMatrix {
  version: string;
  /** TRE_G15 code -> what it reads. */
  professions: ReadonlyMap<string, ProfessionRights>;
  /** Resource type -> document type code (or a DocType pseudo type). */
  resourceCategories: ReadonlyMap<string, string>;
}

/** `all`: every type (but patient-only); `allExcept`; `only`: the listed types (plus ANY_PROFESSION). */
export type ProfessionRights =
  | { kind: 'all' }
  | { kind: 'allExcept'; types: readonly string[] }
  | { kind: 'only'; types: readonly string[] };

const CODE = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.\\-]+$' } as const;
const CODES = { type: 'array', items: CODE, uniqueItems: true } as const;

/** JSON Schema of the matrix file. */
export const MATRIX_SCHEMA = {
  type: 'object',
  required: ['professions', 'resourceCategories'],
  additionalProperties: false,
  properties: {
    $comment: { type: 'string' },
    version: { type: 'string' },
    professions: {
      type: 'object',
      propertyNames: { pattern: '^[0-9A-Za-z]{1,10}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { display: { type: 'string' }, all: { const: true }, allExcept: CODES, types: CODES },
        oneOf: [{ required: ['all'] }, { required: ['allExcept'] }, { required: ['types'] }],
      },
    },
    resourceCategories: {
      type: 'object',
      propertyNames: { pattern: '^[A-Z][A-Za-z]+$' },
      additionalProperties: CODE,
    },
  },
} as const;

const validateMatrix = new Ajv({ allErrors: true }).compile(MATRIX_SCHEMA);

/** The matrix file shipped with the server. */
export const DEFAULT_MATRIX_FILE = path.resolve(__dirname, '..', '..', ...(__dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []), 'terminology', 'access', 'matrix.json');

/**
 * Reads and checks a matrix file. Throws an Error naming the file and the
 * problem (start-up stops on it).
 */
export function loadAccessMatrix(file: string = DEFAULT_MATRIX_FILE): AccessMatrix {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Access matrix ${file}: cannot be read as JSON (${(err as Error).message})`);
  }
  return parseAccessMatrix(data, file);
}

/** Checks matrix data against {@link MATRIX_SCHEMA}; `source` names it in errors. */
export function parseAccessMatrix(data: unknown, source = 'matrix'): AccessMatrix {
  if (!validateMatrix(data)) {
    const problems = (validateMatrix.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new Error(`Access matrix ${source}: invalid (${problems})`);
  }
  const raw = data as {
    version?: string;
    professions: Record<string, { all?: true; allExcept?: string[]; types?: string[] }>;
    resourceCategories: Record<string, string>;
  };
  const professions = new Map<string, ProfessionRights>();
  for (const [code, p] of Object.entries(raw.professions)) {
    professions.set(code, p.all ? { kind: 'all' } : p.allExcept ? { kind: 'allExcept', types: p.allExcept } : { kind: 'only', types: p.types ?? [] });
  }
  return { version: raw.version ?? 'unversioned', professions, resourceCategories: new Map(Object.entries(raw.resourceCategories)) };
}

/**
 * Whether a profession may read a resource with these document types (a
 * DocumentReference may carry several type codings). Patient-only types are
 * read by no profession; ANY_PROFESSION types by every listed one; OTHER
 * (clinical types the matrix does not name) only by professions reading all
 * types. Kept in step with {@link matrixRule}, which says the same as a query.
 */
export function matrixAllows(matrix: AccessMatrix, profession: string | undefined, docTypes: readonly string[]): boolean {
  const rule = matrixRule(matrix, profession);
  switch (rule.kind) {
    case 'none':
      return false;
    case 'noneOf':
      return !docTypes.some((d) => rule.types.includes(d));
    case 'anyOf':
      return docTypes.some((d) => rule.types.includes(d));
  }
}

/**
 * A profession's rights as one test on the document types: `noneOf` (no
 * type may be one of these), `anyOf` (some type must be one of these), or
 * `none` (nothing is readable).
 */
export type MatrixRule = { kind: 'none' } | { kind: 'noneOf'; types: readonly string[] } | { kind: 'anyOf'; types: readonly string[] };

/** @see MatrixRule */
export function matrixRule(matrix: AccessMatrix, profession: string | undefined): MatrixRule {
  const rights = profession === undefined ? undefined : matrix.professions.get(profession);
  if (!rights) return { kind: 'none' };
  switch (rights.kind) {
    case 'all':
      return { kind: 'noneOf', types: [DocType.patientOnly] };
    case 'allExcept':
      return { kind: 'noneOf', types: [DocType.patientOnly, ...rights.types] };
    case 'only':
      return { kind: 'anyOf', types: [DocType.everyProfession, ...rights.types.filter((t) => t !== DocType.patientOnly)] };
  }
}
