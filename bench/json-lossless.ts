/**
 * Micro-measurement of the lossless JSON step (src/fhir/json/): what
 * parsing a request body and serializing a resource cost with it, next to
 * plain JSON.parse / JSON.stringify, on the bodies the server really sees.
 * In-process and single-threaded, so less sensitive to a busy machine than
 * `npm run bench`: `npm run build && node dist/bench/json-lossless.js`.
 * The read path does not run this code (stored JSON text is sent as is).
 */
import { parseJson, stringifyJson } from '../src/fhir/json/lossless';
import { observation } from './clinical';
import { frenchPatient, seededRandom } from './data';

const r = seededRandom(7);
const lab = (value: string) =>
  JSON.stringify(observation(r, 'p1', 0, '2024-03-01T10:00:00Z')).replace(/"value":[-0-9.eE+]+/, `"value":${value}`);
const bodies: Record<string, string> = {
  'Patient (bench create body)': JSON.stringify(frenchPatient(r, 1).body),
  'Observation, plain decimal 5.4': lab('5.4'),
  'Observation, decimal 1.50': lab('1.50'),
  'Binary, 1 MB base64': JSON.stringify({ resourceType: 'Binary', contentType: 'application/pdf', data: Buffer.alloc(768 * 1024, 7).toString('base64') }),
};

/** Median microseconds per call of `f` over `rounds` rounds of `n` calls. */
function time(f: () => unknown, n: number, rounds = 15): number {
  const samples: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const rows: string[][] = [['body', 'bytes', 'JSON.parse µs', 'parseJson µs', 'JSON.stringify µs', 'stringifyJson µs']];
for (const [name, text] of Object.entries(bodies)) {
  const n = text.length > 100_000 ? 20 : 20_000;
  const plain = JSON.parse(text) as unknown;
  const lossless = parseJson(text);
  rows.push([
    name,
    String(text.length),
    time(() => JSON.parse(text), n).toFixed(2),
    time(() => parseJson(text), n).toFixed(2),
    time(() => JSON.stringify(plain), n).toFixed(2),
    time(() => stringifyJson(lossless), n).toFixed(2),
  ]);
}
for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(32) : c.padStart(18))).join(''));
