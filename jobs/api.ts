import type { JobsApi } from '../src/http/admin-api.ts';
import { nextRunOf, runRecorded } from './scheduler.ts';
import type { Job, JobContext } from './types.ts';

/** GET /api/jobs and POST /api/jobs/:name/run over the job list; last runs come from PostgreSQL. */
export function createJobsApi(jobs: Job[], ctx: JobContext): JobsApi {
  return {
    async list(now) {
      const lastRuns = await ctx.db.$queryRaw<
        {
          name: string;
          at: Date;
          startedAt: Date;
          finishedAt: Date | null;
          ok: boolean | null;
          trigger: string;
          result: unknown;
        }[]
      >`
        SELECT DISTINCT ON (name) name, at, "startedAt", "finishedAt", ok, trigger, result
        FROM "JobRun" WHERE NOT "dryRun" ORDER BY name, "startedAt" DESC`;
      const byName = new Map(lastRuns.map((run) => [run.name, run]));
      return jobs.map((job) => {
        const last = byName.get(job.name);
        return {
          name: job.name,
          description: job.description,
          cron: job.cron,
          timezone: job.timezone,
          lastRun: last
            ? {
                at: last.at.toISOString(),
                startedAt: last.startedAt.toISOString(),
                finishedAt: last.finishedAt?.toISOString() ?? null,
                ok: last.ok,
                trigger: last.trigger,
                result: last.result,
              }
            : null,
          nextRun: nextRunOf(job, now)?.toISOString() ?? null,
        };
      });
    },

    async run(name, { at, dryRun, now, actor }) {
      const job = jobs.find((candidate) => candidate.name === name);
      if (!job) return undefined;
      const outcome = await runRecorded(ctx, job, { at, dryRun, trigger: 'api', startedAt: now, actor });
      return {
        job: job.name,
        at: at.toISOString(),
        dryRun,
        [dryRun ? 'wouldSend' : 'sent']: outcome.messages,
        reminders: outcome.reminders,
        unreachable: outcome.unreachable,
        ...(outcome.details ? { details: outcome.details } : {}),
        messages: outcome.sample,
      };
    },
  };
}
