import type { Clients } from './clients.js';
import type { Config } from './config.js';
import { describeTasks, getTaskArns, groupByCluster, peersOf } from './discover/index.js';
import { buildPeerSet, decodePeerSet, diffPeerSets, encodePeerSet } from './peerSet/index.js';
import { peerInstances, readCloudMap, writeCloudMap } from './publish/cloudMap/index.js';
import { readParameter, tierFor, writeParameter } from './publish/index.js';
import type { Report } from './report.js';
import { startRun, type RunOptions } from './runScope.js';
import type { Trigger } from './trigger/index.js';

/**
 * One reconcile run: read the published set, observe the running tagged tasks, build the peer set, and publish
 * it when it changed (or when forced), unless this is a dry run. Any failure throws before anything is
 * written, so the parameter keeps its last good value. The parameter is read first, so that a value someone
 * publishes while this run discovers is seen at the write and kept (ConflictError) rather than overwritten.
 *
 * @param clients - AWS clients
 * @param config - the configuration
 * @param trigger - what started the run
 * @param options - the invocation's abort signal and remaining time (the run's deadline), and a clock
 * @throws DiscoveryError, TaskAddressError, ConfigError, PeerSetTooLargeError, PublishError or ConflictError;
 *   nothing was written
 * @example
 * const report = await reconcile(clients, config, trigger, { signal, remainingMs: context.getRemainingTimeInMillis() });
 */
export const reconcile = async (
  clients: Clients,
  config: Config,
  trigger: Trigger,
  options: RunOptions = {},
): Promise<Report> => {
  const scope = startRun(options);
  const started = scope.now();
  try {
    const ssm = config.peersParameter;
    const stored = ssm === undefined ? undefined : await readParameter(clients.ssm, ssm, scope);
    const tagged = await getTaskArns(clients.tagging, config.taskTags, scope);
    const byCluster = groupByCluster(tagged, config.cluster);
    const { tasks, missing } = await describeTasks(clients.ecs, byCluster, scope);
    const { addresses, skipped } = peersOf(tasks);
    const { nodes } = buildPeerSet(config.nodeBasename, addresses);

    // Every check and read comes before the first write: a set too large for a store, or a failed
    // ListInstances, fails the run with nothing written anywhere.
    const value = encodePeerSet(nodes);
    const tier = ssm === undefined ? undefined : tierFor(value);
    const cloudMap =
      config.cloudMapServiceId === undefined
        ? undefined
        : await readCloudMap(
            clients.serviceDiscovery,
            config.cloudMapServiceId,
            peerInstances(tasks, config.nodeBasename, config.region),
            trigger.force,
            scope,
          );

    const ssmChanged = ssm !== undefined && stored?.value !== value;
    const ssmWrite = ssm !== undefined && (ssmChanged || trigger.force) && !trigger.dryRun;
    const version =
      ssmWrite && tier !== undefined
        ? await writeParameter(clients.ssm, ssm, value, tier, stored?.version, scope)
        : stored?.version;
    const cloudMapReport = cloudMap && (await writeCloudMap(clients.serviceDiscovery, cloudMap, trigger.dryRun, scope));
    const published =
      ssm !== undefined
        ? stored === undefined
          ? []
          : (decodePeerSet(stored.value) ?? [])
        : (cloudMap?.published ?? []);

    return {
      trigger: trigger.kind,
      dryRun: trigger.dryRun,
      force: trigger.force,
      ...(ssm === undefined ? {} : { parameter: ssm }),
      peerCount: nodes.length,
      nodes,
      ...diffPeerSets(published, nodes),
      changed: ssmChanged || cloudMap?.plan.changed === true,
      written: ssmWrite || cloudMapReport?.written === true,
      ...(version === undefined ? {} : { version }),
      stores: {
        ...(ssm === undefined ? {} : { ssm: { parameter: ssm, written: ssmWrite } }),
        ...(cloudMapReport === undefined ? {} : { cloudMap: cloudMapReport }),
      },
      tasks: {
        tagged: tagged.length,
        inCluster: [...byCluster.values()].reduce((sum, arns) => sum + arns.length, 0),
        missing: missing.length,
        skipped,
      },
      apiCalls: scope.calls,
      durationMs: Math.round(scope.now() - started),
    };
  } finally {
    scope.end();
  }
};
