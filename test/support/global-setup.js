/**
 * Compiles the server (for the tests that start real server processes), and
 * says once, before the suite, which adapters it will exercise: the MongoDB
 * adapter runs only when MONGODB_URL is set (.ci/run starts FerretDB and sets it).
 */
module.exports = async function globalSetup() {
  // Tests that run real server processes (two processes on one database) start dist/src/server.js: build it.
  require('node:child_process').execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: require('node:path').join(__dirname, '..', '..'),
    stdio: 'inherit',
  });
  if (process.env.MONGODB_URL) {
    process.stdout.write(`\nStore adapters under test: sqlite, mongo (${redact(process.env.MONGODB_URL)})\n`);
  } else {
    process.stdout.write('\nStore adapters under test: sqlite only (set MONGODB_URL, or run .ci/run, to include mongo and the MongoDB-only test files)\n');
  }
};

function redact(url) {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
