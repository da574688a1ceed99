/**
 * The Cloud Map side of the fault bed: a service per case holding the last good instances, what a run left in
 * it, and how that compares with the full set. A Cloud Map run registers before it deregisters, one instance at a
 * time, so a run that fails on a write can leave more than the last good set (some peers added, nothing taken
 * away) but never less: `added` and `superset` name those states.
 */
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';

/**
 * What a run left in the service: the full set; the last good set; the last good set with some peers of the full
 * set added (a failed registration, nothing deregistered); the full set with some of the last good set left (a
 * failed deregistration); or anything else (a broken promise).
 */
export type InstancesLeft = 'full' | 'unchanged' | 'added' | 'superset' | 'partial' | 'empty' | 'other';

/** Cloud Map services for fault cases, each seeded with the last good set. */
export interface CaseServices {
  /** Creates a service holding `nodes` as instances `last-good-N` and returns its id. */
  newService: (nodes: readonly string[]) => Promise<string>;
  /** The node names the service's instances carry now (ECS_PEERS_NODE), sorted and unique. */
  nodes: (serviceId: string) => Promise<string[]>;
}

/**
 * Cloud Map services in moto for fault cases, in one HTTP namespace.
 *
 * @param aws - client settings pointed at moto (not at a fault proxy)
 */
export const caseServices = (aws: ConstructorParameters<typeof ServiceDiscoveryClient>[0]): CaseServices => {
  const client = new ServiceDiscoveryClient(aws ?? {});
  let namespace: Promise<string> | undefined;
  let count = 0;
  const namespaceId = () =>
    (namespace ??= (async () => {
      await client.send(new CreateHttpNamespaceCommand({ Name: 'ecs-peers-faults' }));
      const { Namespaces } = await client.send(new ListNamespacesCommand({}));
      return Namespaces!.find((entry) => entry.Name === 'ecs-peers-faults')!.Id!;
    })());

  const newService = async (nodes: readonly string[]) => {
    count += 1;
    const { Service } = await client.send(
      new CreateServiceCommand({ Name: `p${process.pid}-${count}`, NamespaceId: await namespaceId() }),
    );
    for (const [index, node] of nodes.entries()) {
      const ip = node.slice(node.indexOf('@') + 1);
      await client.send(
        new RegisterInstanceCommand({
          ServiceId: Service!.Id!,
          InstanceId: `last-good-${index + 1}`,
          Attributes: { AWS_INSTANCE_IPV4: ip, ECS_PEERS_NODE: node },
        }),
      );
    }
    return Service!.Id!;
  };

  const nodes = async (serviceId: string) => {
    const byId = new Map<string, string>();
    let NextToken: string | undefined;
    do {
      const page = await client.send(new ListInstancesCommand({ ServiceId: serviceId, NextToken }));
      for (const instance of page.Instances ?? []) byId.set(instance.Id!, instance.Attributes?.ECS_PEERS_NODE ?? '');
      NextToken = page.NextToken;
    } while (NextToken);
    return [...new Set(byId.values())].sort();
  };

  return { newService, nodes };
};

/**
 * Compares what a service holds with the full set and the last good set.
 *
 * @param nodes - the node names the service's instances carry
 * @param full - the full peer set
 * @param lastGood - the set the service started with
 */
export const judgeInstances = (
  nodes: readonly string[],
  full: readonly string[],
  lastGood: readonly string[],
): InstancesLeft => {
  const held = new Set(nodes);
  const same = (set: readonly string[]) => set.length === held.size && set.every((node) => held.has(node));
  if (same(full)) return 'full';
  if (same(lastGood)) return 'unchanged';
  if (held.size === 0) return 'empty';
  if (![...held].every((node) => full.includes(node) || lastGood.includes(node))) return 'other';
  if (full.every((node) => held.has(node))) return 'superset';
  if (lastGood.every((node) => held.has(node))) return 'added';
  return 'partial';
};
