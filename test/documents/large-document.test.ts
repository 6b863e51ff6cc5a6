import { randomBytes } from 'node:crypto';
import { dmpPatient, openDmpWorld, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { provideBundle, sha1 } from './examples';

const MB = 1024 * 1024;

/**
 * A 1 MB PDF in an ITI-65 bundle: its base64 text (1.4 MB) is longer than the
 * 1 MiB string limit of the structural validator, so it is checked on its own
 * (src/fhir/validation/large-base64.ts), and stored and read back byte for byte.
 */
describe.each(STORES)('ITI-65 with a 1 MB PDF ($name)', (fixture) => {
  let w: DmpWorld;
  let author: Client;
  let P: string;

  beforeAll(async () => {
    w = await openDmpWorld(fixture, { maxBodyBytes: 4 * MB });
    const gp = await w.as('gp');
    author = await w.as('author');
    P = (await gp.post('Patient', dmpPatient('285047512399501'))).body.id;
  });
  afterAll(async () => {
    await w.close();
  });

  const pdfBundle = (bytes: Buffer) => {
    const b = provideBundle(`Patient/${P}`, 'placeholder');
    const [doc, bin] = [b.entry[1].resource, b.entry[2].resource];
    bin.contentType = 'application/pdf';
    bin.data = bytes.toString('base64');
    Object.assign(doc.content[0].attachment, { contentType: 'application/pdf', size: bytes.length, hash: sha1(bytes) });
    return b;
  };

  test('accepted, and the Binary reads back with the same bytes', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(MB - 9)]);
    const res = await author.post('', pdfBundle(bytes), { prefer: 'return=minimal' });
    expect(res.status).toBe(200);
    const binary = (res.body.entry[2].response.location as string).split('/')[1];
    const read = (await author.get(`Binary/${binary}`).set('Accept', 'application/fhir+json')).body;
    expect(Buffer.from(read.data, 'base64').equals(bytes)).toBe(true);
  });

  test('a large Binary.data that is not base64 is refused (400), nothing stored', async () => {
    const b = pdfBundle(randomBytes(MB));
    b.entry[2].resource.data = `${'A'.repeat(1.2 * MB)}!!!!`;
    // Its document points elsewhere, so that the Binary's own validation is what answers.
    b.entry[1].resource.content[0].attachment.url = 'Binary/elsewhere';
    b.entry[2].resource.securityContext = { reference: `Patient/${P}` };
    const res = await author.post('', b);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toBe('Bundle.entry[2] (POST Binary): Invalid base64Binary format');
    expect(res.body.issue[0].expression).toEqual(['Bundle.entry[2]', 'Bundle.entry[2].resource.data']);
  });
});
