import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAccessMatrix, matrixAllows, parseAccessMatrix } from '../../src/access/matrix';

describe('the profession matrix file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmp-matrix-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('the shipped matrix loads and says what DMP-RULES § 6 says', () => {
    const m = loadAccessMatrix();
    expect(matrixAllows(m, '21', ['57833-6'])).toBe(true);
    expect(matrixAllows(m, '21', ['11488-4'])).toBe(false);
    expect(matrixAllows(m, '40', ['REMB'])).toBe(false);
    expect(matrixAllows(m, '10', ['REMB'])).toBe(true);
    expect(matrixAllows(m, '99', ['57833-6'])).toBe(false);
  });

  test('an operator file replaces it', () => {
    const file = write('ok.json', JSON.stringify({ professions: { '21': { types: ['11488-4'] } }, resourceCategories: {} }));
    const m = loadAccessMatrix(file);
    expect(matrixAllows(m, '21', ['11488-4'])).toBe(true);
    expect(matrixAllows(m, '21', ['57833-6'])).toBe(false);
  });

  test.each([
    ['not JSON', '{ professions: ', /cannot be read as JSON/],
    ['a profession with two kinds of rights', JSON.stringify({ professions: { '21': { all: true, types: ['x'] } }, resourceCategories: {} }), /professions\/21/],
    ['an unknown property', JSON.stringify({ professions: {}, resourceCategories: {}, extra: 1 }), /additional properties/],
    ['a bad code', JSON.stringify({ professions: { '21': { types: ['a b'] } }, resourceCategories: {} }), /types\/0/],
    ['no resourceCategories', JSON.stringify({ professions: {} }), /resourceCategories/],
  ])('a bad file (%s) stops start-up with a message naming the file and the problem', (_what, text, problem) => {
    const file = write(`bad-${Math.random()}.json`, text);
    expect(() => loadAccessMatrix(file)).toThrow(file);
    expect(() => loadAccessMatrix(file)).toThrow(problem);
  });

  test('parseAccessMatrix names its source', () => {
    expect(() => parseAccessMatrix({}, 'ACCESS_MATRIX_FILE')).toThrow(/ACCESS_MATRIX_FILE/);
  });
});
