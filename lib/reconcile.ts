import type { Clients } from './clients.js';
import type { Config } from './config.js';
import { discover, peersOf, type DiscoveryPath, type PathChooser } from './discover/index.js';
import { buildPeerSet, diffPeerSets, peerSetValues } from './peerSet/index.js';
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
    const stored = await readParameter(clients.ssm, config.peersParameter, scope);
    const path: DiscoveryPath = config.discovery ?? options.paths?.next() ?? 'tagging';
    const found = await discover(clients, config.taskTags, config.cluster, scope, path);
    if (found.cost) options.paths?.record(found.cost);
    const { tasks, missing } = found;
    const { addresses, skipped } = peersOf(tasks);
    const { nodes } = buildPeerSet(config.nodeBasename, addresses);

    // v1 while it fits, else a v2 manifest and parts; a set too large for either fails here, before any write
    const values = peerSetValues(config.nodeBasename, nodes);
    const changed = stored?.value !== values.main;
    const write = (changed || trigger.force) && !trigger.dryRun;
    const published = await readPublished(clients.ssm, config.peersParameter, stored, values, nodes, scope, write);
    const version = write
      ? await publishValues(clients.ssm, config.peersParameter, values, stored?.version, published.parts, scope)
      : stored?.version;

    return {
      trigger: trigger.kind,
      dryRun: trigger.dryRun,
      force: trigger.force,
      parameter: config.peersParameter,
      peerCount: nodes.length,
      nodes,
      ...diffPeerSets(published.nodes, nodes),
      changed,
      written: write,
      ...(version === undefined ? {} : { version }),
      tasks: {
        discovery: found.path,
        tagged: found.tagged,
        inCluster: found.inCluster,
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
