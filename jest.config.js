/**
 * MongoDB adapter tests that need a server run only when MONGODB_URL is set
 * (.ci/run starts FerretDB and sets it); the global setup says which adapters
 * a run covers.
 */
const MONGO_SERVER_ONLY = ['mongo-versions', 'mongo-search', 'mongo-native-path', 'mongo-filter-server', 'mongo-unique-keys'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.MONGODB_URL ? [] : MONGO_SERVER_ONLY.map((f) => `/test/store/${f}\\.test\\.ts$`))],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.js',
  testTimeout: 30000,
  // Two cores: more workers than that only adds contention.
  maxWorkers: 2,
};
