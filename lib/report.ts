import type { Config } from './config.js';
import type { SkipReason } from './discover/index.js';
import type { CloudMapReport } from './publish/cloudMap/index.js';
import type { ApiCalls } from './runScope.js';
import type { Trigger, TriggerKind } from './trigger/index.js';

/** What one run saw and did: logged and returned by the handler. */
export interface Report {
  trigger: TriggerKind;
  /** Why the run did nothing, when the trigger called for no run. */
  ignored?: string;
  dryRun: boolean;
  force: boolean;
  /** The SSM parameter, when SSM is a store. */
  parameter?: string;
  /** How many peers the computed set holds. */
  peerCount: number;
  /** The peer set computed by this run. */
  nodes: string[];
  added: string[];
  removed: string[];
  /** The computed set differs from what a store holds. */
  changed: boolean;
  /** Some store was written. */
  written: boolean;
  /** The parameter's version after the run (undefined when it does not exist or SSM is not a store). */
  version?: number;
  /** What each configured store did (in a dry run: would do). */
  stores: {
    ssm?: { parameter: string; written: boolean };
    cloudMap?: CloudMapReport;
  };
  tasks: {
    /** How they were found: the Tagging API, or ListTasks of the cluster (lib/discover/choosePath.ts). */
    discovery?: 'tagging' | 'listTasks';
    /** Task ARNs carrying the tags, in any cluster and state. */
    tagged: number;
    /** Of those, in the configured cluster. */
    inCluster: number;
    /** Gone from ECS (DescribeTasks failure MISSING). */
    missing: number;
    /** Described tasks that are not peers, by reason. */
    skipped: Partial<Record<SkipReason, number>>;
    /** Why discovery left the path it was given for the other one (lib/discover/discover.ts), if it did. */
    fallback?: string;
  };
  apiCalls: ApiCalls;
  durationMs: number;
}

/**
 * The report of a run that did nothing, with the reason.
 *
 * @param config - the configuration
 * @param trigger - a trigger whose `ignored` is set
 */
export const ignoredReport = (config: Config, trigger: Trigger): Report => ({
  trigger: trigger.kind,
  ignored: trigger.ignored ?? 'nothing to do',
  dryRun: trigger.dryRun,
  force: trigger.force,
  ...(config.peersParameter === undefined ? {} : { parameter: config.peersParameter }),
  peerCount: 0,
  nodes: [],
  added: [],
  removed: [],
  changed: false,
  written: false,
  stores: {},
  tasks: { tagged: 0, inCluster: 0, missing: 0, skipped: {} },
  apiCalls: {},
  durationMs: 0,
});
