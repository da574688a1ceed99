import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ApiCalls } from './apiCalls.js';
import type { Config } from './config.js';
import { describeTasks, getTaskArns, groupByCluster, taskPeer, type SkipReason } from './discover/index.js';
import { buildPeerSet, decodePeerSet, diffPeerSets, encodePeerSet } from './peerSet/index.js';
import { readParameter, tierFor, writeParameter } from './publish/index.js';
import type { Trigger, TriggerKind } from './trigger/index.js';

/** The AWS clients a run uses; tests pass clients pointed at moto or wrapped by aws-sdk-client-mock. */
export interface Clients {
  tagging: ResourceGroupsTaggingAPIClient;
  ecs: ECSClient;
  ssm: SSMClient;
}

/** What one run saw and did: logged and returned by the handler. */
export interface Report {
  trigger: TriggerKind;
  /** Why the run did nothing, when the trigger called for no run. */
  ignored?: string;
  dryRun: boolean;
  force: boolean;
  parameter: string;
  /** How many peers the computed set holds. */
  peerCount: number;
  /** The peer set computed by this run. */
  nodes: string[];
  added: string[];
  removed: string[];
  /** The computed set differs from the published one. */
  changed: boolean;
  /** The parameter was written. */
  written: boolean;
  /** The parameter's version after the run (undefined when it does not exist). */
  version?: number;
  tasks: {
    /** Task ARNs carrying the tags, in any cluster and state. */
    tagged: number;
    /** Of those, in the configured cluster. */
    inCluster: number;
    /** Gone from ECS (DescribeTasks failure MISSING). */
    missing: number;
    /** Described tasks that are not peers, by reason. */
    skipped: Partial<Record<SkipReason | 'invalid-ip', number>>;
  };
  apiCalls: ApiCalls;
  durationMs: number;
}

const countBy = <K extends string>(keys: readonly K[]): Partial<Record<K, number>> => {
  const counts: Partial<Record<K, number>> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
};

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
  parameter: config.peersParameter,
  peerCount: 0,
  nodes: [],
  added: [],
  removed: [],
  changed: false,
  written: false,
  tasks: { tagged: 0, inCluster: 0, missing: 0, skipped: {} },
  apiCalls: {},
  durationMs: 0,
});

/**
 * One reconcile run: observe the running tagged tasks, build the peer set, and publish it when it changed
 * (or when forced), unless this is a dry run. Any AWS failure throws before anything is written, so the
 * parameter keeps its last good value.
 *
 * @param clients - AWS clients
 * @param config - the configuration
 * @param trigger - what started the run
 * @param now - clock, for the duration
 * @throws DiscoveryError, PublishError or PeerSetTooLargeError; nothing was written
 */
export const reconcile = async (
  clients: Clients,
  config: Config,
  trigger: Trigger,
  now: () => number = performance.now.bind(performance),
): Promise<Report> => {
  const started = now();
  const apiCalls: ApiCalls = {};

  const tagged = await getTaskArns(clients.tagging, config.taskTags, apiCalls);
  const byCluster = groupByCluster(tagged, config.cluster);
  const { tasks, missing } = await describeTasks(clients.ecs, byCluster, apiCalls);

  const verdicts = tasks.map(taskPeer);
  const addresses = verdicts.flatMap((verdict) => ('ip' in verdict ? [verdict.ip] : []));
  const { nodes, rejected } = buildPeerSet(config.nodeBasename, addresses);
  const skipped = countBy([
    ...verdicts.flatMap((verdict) => ('skip' in verdict ? [verdict.skip] : [])),
    ...rejected.map(() => 'invalid-ip' as const),
  ]);

  const value = encodePeerSet(nodes);
  const tier = tierFor(value); // a set too large to publish fails here, dry run or not, before any SSM call
  const stored = await readParameter(clients.ssm, config.peersParameter, apiCalls);
  const published = stored === undefined ? [] : (decodePeerSet(stored.value) ?? []);
  const changed = stored?.value !== value;
  const write = (changed || trigger.force) && !trigger.dryRun;
  const version = write
    ? await writeParameter(clients.ssm, config.peersParameter, value, tier, apiCalls)
    : stored?.version;

  return {
    trigger: trigger.kind,
    dryRun: trigger.dryRun,
    force: trigger.force,
    parameter: config.peersParameter,
    peerCount: nodes.length,
    nodes,
    ...diffPeerSets(published, nodes),
    changed,
    written: write,
    ...(version === undefined ? {} : { version }),
    tasks: {
      tagged: tagged.length,
      inCluster: [...byCluster.values()].reduce((sum, arns) => sum + arns.length, 0),
      missing: missing.length,
      skipped,
    },
    apiCalls,
    durationMs: Math.round(now() - started),
  };
};
