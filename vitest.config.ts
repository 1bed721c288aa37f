import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * Files at once, for every project but the faults. The files mostly wait (for a service process, a
 * per-chat gap, a queue), so running several pays even on 2 cores. Measured on this machine's 2 busy
 * cores, the unit, integration, e2e and abuse files took 578 s one at a time, 246-355 s two at a time,
 * 205 s three at a time; but at three, delivery.test.ts's bound on how soon an answer overtakes waiting
 * news failed once in six runs, so one file per core. Bigger machines keep vitest's default (cores - 1).
 */
const FILES_AT_ONCE = Math.max(2, availableParallelism() - 1);

/** One project per folder of test/: `npm test` runs them all, `npm run test:<name>` one. */
function project(name: string, test: TestProjectInlineConfiguration['test'] = {}) {
  return {
    test: {
      name,
      include: [`test/${name}/**/*.test.ts`],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      maxWorkers: FILES_AT_ONCE,
      ...test,
    },
  } satisfies TestProjectInlineConfiguration;
}

export default defineConfig({
  test: {
    // The root's global setup runs once per run, whichever projects run, and every project gets what it
    // provides (the migrated template database). Projects do not extend this config, so none runs it again.
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      project('unit'),
      project('integration'),
      project('e2e'),
      project('abuse'),
      // Each fault file runs the service's roles as processes at full speed and asserts on timing, so they
      // run after everything else, one at a time: two at a time took 267 s instead of 484 s on 2 busy cores, but
      // a launch then missed its 60 s deadline (sigterm-worker).
      project('faults', { maxWorkers: 1, sequence: { groupOrder: 1 } }),
    ],
  },
});
