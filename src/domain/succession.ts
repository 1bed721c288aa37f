import type { Status } from './status.ts';

/**
 * What a unit formed by a merge inherits: for each task, the furthest status any of the units that went
 * into it had reached, until it reports again itself.
 *
 * "Furthest" is the order of progress, not of alarm: done > in_progress > blocked > not_started. A blocked
 * report means the work started and stopped, so it is further than not started and behind work that is
 * moving; a merged unit whose part is moving is not reported stuck (its officials, all of them now, are
 * still reminded until the task is done, and can report the obstacle again). Between two reports of the
 * same status the higher percent is further (none counts lowest), then the later report, then the greater
 * id, so the choice never depends on the order predecessors are listed in.
 *
 * Example: Bình Lư reported "đang thực hiện 60%" on 10/7, Bản Giang "hoàn thành" on 3/7, Sơn Bình nothing.
 * Merged on 15/7 into xã Bình Lư (mới), the task is done (Bản Giang's report, still attributed to Bản Giang
 * in the history and the reports list). If the new commune then reports "đang thực hiện 80%" on 20/7, that
 * is its status; if it undoes that report, it is done again.
 */

/** A current status as CurrentStatus keeps it: the report it comes from, and that report's figures. */
export interface StatusHolding {
  reportId: string;
  status: Status;
  percent: number | null;
  reportedAt: Date;
}

/** How far each status has gone: higher is further. */
export const PROGRESS: Readonly<Record<Status, number>> = {
  not_started: 0,
  blocked: 1,
  in_progress: 2,
  done: 3,
};

/** Positive when `a` is further than `b` (see the module's note for the order and the ties). */
export function compareProgress(a: StatusHolding, b: StatusHolding): number {
  return (
    PROGRESS[a.status] - PROGRESS[b.status] ||
    (a.percent ?? -1) - (b.percent ?? -1) ||
    a.reportedAt.getTime() - b.reportedAt.getTime() ||
    (a.reportId < b.reportId ? -1 : a.reportId > b.reportId ? 1 : 0)
  );
}

/** The furthest of some statuses (a successor's, from its predecessors' and its own); null for none. */
export function furthestStatus(holdings: readonly StatusHolding[]): StatusHolding | null {
  let best: StatusHolding | null = null;
  for (const holding of holdings) if (!best || compareProgress(holding, best) > 0) best = holding;
  return best;
}

/**
 * A successor's status of a task when its current report is withdrawn: its own latest report still
 * standing, when it was made since the unit last took others in (it reported again), else the furthest of
 * that report and the statuses it inherited. Null: nothing left.
 */
export function statusAfterWithdrawal(input: {
  /** The unit's own latest report still standing. */
  own: StatusHolding | null;
  /** The statuses the units that went into it left (their frozen current statuses). */
  inherited: readonly StatusHolding[];
  /** When it last took other units in; null: never (its own reports are all there is). */
  lastTookInAt: Date | null;
}): StatusHolding | null {
  const { own, inherited, lastTookInAt } = input;
  if (own && (lastTookInAt === null || own.reportedAt.getTime() >= lastTookInAt.getTime())) return own;
  return furthestStatus(own ? [own, ...inherited] : inherited);
}
