import { DESCRIBE_TASKS_MAX_ARNS, DISCOVERY_RECHECK_RUNS, GET_RESOURCES_PAGE_SIZE } from '../constants.js';

/**
 * The two ways to find a cluster's tagged tasks: the Tagging API (every tagged task of the Region, then
 * DescribeTasks of those in the cluster), or ListTasks of the cluster (desired RUNNING, tagged or not) then
 * DescribeTasks with their tags.
 */
export type DiscoveryPath = 'tagging' | 'listTasks';

/** What a run's discovery cost, in calls (without SDK retries), and how many tasks both paths must describe. */
export interface PathCost {
  path: DiscoveryPath;
  calls: number;
  /** Tagged tasks of the cluster with desired status RUNNING: what either path has to list and describe. */
  shared: number;
}

/**
 * The fewest calls any path can make for `shared` tasks: one listing page per 100 (at least one page) and one
 * DescribeTasks per 100. A path that cost this is at the floor; the other cannot be cheaper.
 *
 * @param shared - tagged tasks of the cluster with desired status RUNNING
 */
export const floorCalls = (shared: number): number =>
  Math.max(1, Math.ceil(shared / GET_RESOURCES_PAGE_SIZE)) + Math.ceil(shared / DESCRIBE_TASKS_MAX_ARNS);

/**
 * Chooses the discovery path of each run from the costs earlier runs of this execution environment measured
 * (Lambda keeps module state between invocations; a cold start begins again). The rule:
 * - the first run takes the Tagging API, as without a cluster (and as before ListTasks was an option);
 * - a path whose last cost was the floor (`floorCalls`) is kept: no path can do better;
 * - otherwise the other path is measured once, and from then on the cheaper one is taken; the one not taken is
 *   measured again after DISCOVERY_RECHECK_RUNS runs, because either cost moves with the estate.
 * Costs are counted in calls because the Tagging API's pages and ListTasks' pages are both sequential requests
 * of 100 items, and DescribeTasks takes 100 tasks a call on either path.
 */
export class PathChooser {
  private readonly last = new Map<DiscoveryPath, PathCost & { run: number }>();
  private runs = 0;

  /** The path the next run takes. */
  next(): DiscoveryPath {
    this.runs += 1;
    const run = this.runs;
    const list = this.last.get('listTasks');
    const tagging = this.last.get('tagging');
    const latest = [list, tagging].filter((cost) => cost !== undefined).sort((a, b) => b.run - a.run)[0];
    if (latest === undefined) return 'tagging';
    if (latest.calls <= floorCalls(latest.shared)) return latest.path;
    const other = latest.path === 'listTasks' ? tagging : list;
    if (other === undefined || run - other.run >= DISCOVERY_RECHECK_RUNS) {
      return latest.path === 'listTasks' ? 'tagging' : 'listTasks';
    }
    return other.calls < latest.calls ? other.path : latest.path;
  }

  /** Records what a run's discovery cost. */
  record(cost: PathCost): void {
    this.last.set(cost.path, { ...cost, run: this.runs });
  }
}
