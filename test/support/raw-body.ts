import type request from 'supertest';

/** supertest buffers a non-text body only with a parser: this one keeps the raw bytes (a Buffer in `res.body`). */
export function rawBody(r: request.Test): request.Test {
  return r.buffer(true).parse((res, cb) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => cb(null, Buffer.concat(parts)));
  });
}
