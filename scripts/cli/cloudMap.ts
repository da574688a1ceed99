/**
 * The demo's Cloud Map part (`npm run cli -- demo --cloud-map`): an HTTP namespace and service in moto that the
 * reconciler publishes to beside the parameter, and what a node reads from it (DiscoverInstances).
 */
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DiscoverInstancesCommand,
  ListNamespacesCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import type { HandlerResult } from '../../lib/handler.js';

const NAMESPACE = 'shop';
const SERVICE = 'peers';

/** Creates the demo's namespace and service in moto (the client reads AWS_ENDPOINT_URL) and returns the service id. */
export const createDemoService = async (): Promise<string> => {
  const client = new ServiceDiscoveryClient({});
  await client.send(new CreateHttpNamespaceCommand({ Name: NAMESPACE }));
  const { Namespaces } = await client.send(new ListNamespacesCommand({}));
  const namespaceId = Namespaces!.find((namespace) => namespace.Name === NAMESPACE)!.Id!;
  const { Service } = await client.send(new CreateServiceCommand({ Name: SERVICE, NamespaceId: namespaceId }));
  return Service!.Id!;
};

/**
 * The Cloud Map line of a run's report: what the run registered and deregistered.
 *
 * @param report - what the handler returned
 */
export const cloudMapRow = (report: HandlerResult): [string, string] | undefined => {
  const store = report.stores.cloudMap;
  if (store === undefined) return undefined;
  const verb = report.dryRun ? 'would register' : 'registered';
  return [
    'Cloud Map',
    `${store.serviceId}: ${store.instances} instances, ${verb} ${store.registered.length}, ` +
      `deregistered ${store.deregistered.length}`,
  ];
};

/** Prints the instances a node reads: DiscoverInstances of the demo's namespace and service, with their attributes. */
export const printDiscovered = async (): Promise<void> => {
  // moto serves the data plane on the same endpoint: no `data-` host prefix.
  const client = new ServiceDiscoveryClient({ disableHostPrefix: true });
  const { Instances = [] } = await client.send(
    new DiscoverInstancesCommand({ NamespaceName: NAMESPACE, ServiceName: SERVICE, MaxResults: 1000 }),
  );
  console.log(
    `\nwhat every node reads from Cloud Map (DiscoverInstances ${NAMESPACE}/${SERVICE}), ${Instances.length} instances:`,
  );
  for (const instance of [...Instances].sort((a, b) => (a.InstanceId! < b.InstanceId! ? -1 : 1))) {
    const { ECS_PEERS_NODE, ...rest } = instance.Attributes ?? {};
    const metadata = Object.entries(rest).map(([name, value]) => `${name}=${value}`);
    console.log(`  ${ECS_PEERS_NODE}  task ${instance.InstanceId}  ${metadata.join(' ')}`);
  }
};
