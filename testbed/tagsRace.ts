/**
 * moto's DescribeTasks tags race, through the built handler: runs on the ListTasks path, pointed at moto itself
 * (no fault proxy), while other clients describe the same tasks without `include: ["TAGS"]`. moto then answers
 * some of the run's DescribeTasks without `tags` (see testbed/faultProxy.ts), the answer this race stands for:
 * tags asked for and not sent. Taking such tasks for untagged drops live peers; the run must fall back on the
 * Tagging API and publish the full set, every time.
 */
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CLUSTER, REGION, SCHEDULED, TAGS, type FaultBed, type Stored } from './faultBed.js';

/** What one run did. */
export interface TagsRaceRun {
  stored: Stored;
  /** The report's `tasks.fallback`: why it left the ListTasks path (undefined: it did not). */
  fallback?: string;
  failure?: string;
}

/** How to run the race. */
export interface TagsRaceOptions {
  /** Runs at most (default 20). */
  runs?: number;
  /** Stop once this many runs met the race (default 3). */
  enough?: number;
  /** Clients describing without tags all the while (default 4). */
  noise?: number;
}

/**
 * Runs the handler on the ListTasks path until `enough` runs met the race or `runs` ran, each on a parameter of
 * its own, with `noise` loops of DescribeTasks without tags going on.
 *
 * @param bed - the fault bed (FAULT_ESTATE)
 * @param options - how many runs, and how much noise
 */
export const runTagsRace = async (bed: FaultBed, options: TagsRaceOptions = {}): Promise<TagsRaceRun[]> => {
  const { runs = 20, enough = 3, noise = 4 } = options;
  const ecs = new ECSClient({
    endpoint: bed.moto.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const arns = bed.estate.tasks.filter((task) => task.cluster === CLUSTER).map((task) => task.arn);
  const chunks = [arns.slice(0, 100), arns.slice(100, 200), arns.slice(200, 300)].filter((chunk) => chunk.length > 0);
  let noisy = true;
  const describeWithoutTags = async (offset: number) => {
    for (let call = offset; noisy; call += 1) {
      await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: chunks[call % chunks.length]! }));
    }
  };
  const loops = Array.from({ length: noise }, (_, offset) => describeWithoutTags(offset));
  const done: TagsRaceRun[] = [];
  try {
    while (done.length < runs && done.filter((run) => run.fallback !== undefined).length < enough) {
      const parameter = await bed.newParameter();
      const env = bed.functionEnv(parameter, bed.moto.endpoint, { DISCOVERY_PATH: 'listTasks' });
      const run = await bed.invoke(SCHEDULED, env, { killAfterMs: bed.functionTimeoutMs + 5_000 }).answered;
      const fallback = run.result?.tasks.fallback;
      done.push({
        stored: bed.judge((await bed.read(parameter)).value, bed.estate.peers(CLUSTER, TAGS)),
        ...(fallback === undefined ? {} : { fallback }),
        ...(run.failure ? { failure: `${run.failure.name}: ${run.failure.message}` } : {}),
      });
    }
  } finally {
    noisy = false;
    await Promise.allSettled(loops);
    ecs.destroy();
  }
  return done;
};
