import type { Clients } from './clients.js';
import type { Config } from './config.js';
import { discover, peersOf, type DiscoveryPath, type PathChooser } from './discover/index.js';
import { buildPeerSet, diffPeerSets, peerSetValues } from './peerSet/index.js';
import { peerInstances, readCloudMap, writeCloudMap } from './publish/cloudMap/index.js';
import { publishValues, readParameter, readPublished } from './publish/index.js';
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
 * @param options - the invocation's abort signal and remaining time (the run's deadline), a clock, and the
 *   execution environment's PathChooser (with ECS_CLUSTER: which discovery path the run takes)
 * @throws DiscoveryError, TaskAddressError, ConfigError, PeerSetTooLargeError, PublishError or ConflictError;
 *   nothing was written
 * @example
 * const report = await reconcile(clients, config, trigger, { signal, remainingMs: context.getRemainingTimeInMillis() });
 */
export const reconcile = async (
  clients: Clients,
  config: Config,
  trigger: Trigger,
  options: RunOptions & { paths?: PathChooser } = {},
): Promise<Report> => {
  const scope = startRun(options);
  const started = scope.now();
  try {
    const ssm = config.peersParameter;
    const stored = ssm === undefined ? undefined : await readParameter(clients.ssm, ssm, scope);
    const path: DiscoveryPath = config.discovery ?? options.paths?.next() ?? 'tagging';
    const found = await discover(clients, config.taskTags, config.cluster, scope, path);
    for (const cost of found.costs ?? (found.cost ? [found.cost] : [])) options.paths?.record(cost);
    const { tasks, missing } = found;
    const { addresses, skipped } = peersOf(tasks);
    const { nodes } = buildPeerSet(config.nodeBasename, addresses);

    // Every check and read comes before the first write: a set too large for a store, or a failed
    // ListInstances or GetParameters, fails the run with nothing written anywhere.
    // SSM: v1 while it fits, else a v2 manifest and its parts (docs/peer-set-format.md).
    const values = ssm === undefined ? undefined : peerSetValues(config.nodeBasename, nodes);
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

    const ssmChanged = values !== undefined && stored?.value !== values.main;
    const ssmWrite = values !== undefined && (ssmChanged || trigger.force) && !trigger.dryRun;
    const ssmPublished =
      ssm === undefined || values === undefined
        ? undefined
        : await readPublished(clients.ssm, ssm, stored, values, nodes, scope, ssmWrite);
    const version =
      ssmWrite && ssm !== undefined && values !== undefined && ssmPublished !== undefined
        ? await publishValues(clients.ssm, ssm, values, stored?.version, ssmPublished.parts, scope)
        : stored?.version;
    const cloudMapReport = cloudMap && (await writeCloudMap(clients.serviceDiscovery, cloudMap, trigger.dryRun, scope));
    const published = ssmPublished?.nodes ?? cloudMap?.published ?? [];

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
        discovery: found.path,
        tagged: found.tagged,
        inCluster: found.inCluster,
        missing: missing.length,
        skipped,
        ...(found.fallback === undefined ? {} : { fallback: found.fallback }),
      },
      apiCalls: scope.calls,
      durationMs: Math.round(scope.now() - started),
    };
  } finally {
    scope.end();
  }
};
