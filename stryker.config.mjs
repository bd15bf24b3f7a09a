// @ts-check
/**
 * Mutation testing (`npm run mutate`, not part of `npm test` or CI): StrykerJS plants one bug at a time in
 * src/ and runs the tests that cover it; a mutant that no test notices is a test that cannot fail.
 * Whole src/ takes long on a 2-core machine: name modules, e.g.
 *   npm run mutate -- --mutate src/session-writes.ts
 *   npm run mutate -- --mutate 'src/transport/*.ts'
 * The HTML report is reports/mutation/index.html. See docs/testing.md for the scores and known survivors.
 * MUTATE_TESTS picks the test files run against the mutants (vitest.stryker.config.ts); with it set, the
 * reports and the sandboxes go to folders of that name, so two groups can run side by side.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const group = process.env.MUTATE_TESTS;
// MUTATE_RUN names a run's folders instead, for several runs of one group at once.
const run = process.env.MUTATE_RUN ?? group;
const reports = run ? `reports/mutation/${run}` : 'reports/mutation';

export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: true },
  // The contract suite in src/testing is test code; the adapters' one-line re-exports have nothing to mutate.
  mutate: ['src/**/*.ts', '!src/testing/**', '!src/express.ts', '!src/fastify.ts', '!src/express-session.ts'],
  coverageAnalysis: 'perTest',
  // Two cores shared with other work: more runners only wait for each other (and for the shard threads).
  concurrency: 2,
  // Static mutants (module-level constants) would need every test re-run for each: skip them.
  ignoreStatic: true,
  timeoutMS: 15_000,
  timeoutFactor: 2,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: `${reports}/index.html` },
  jsonReporter: { fileName: `${reports}/mutation.json` },
  tempDirName: run ? `.stryker-tmp-${run}` : '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['reports', 'coverage', 'bench/results', '.stryker-tmp*'],
};
