/** Builders for aws-sdk-client-mock tests: clients, tasks and tagged-resource pages. */
import { ECSClient, type Task } from '@aws-sdk/client-ecs';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Clients } from '../../lib/clients.js';

export const ACCOUNT = '123456789012';

/** A new-format task ARN. */
export const taskArn = (cluster: string, index: number): string =>
  `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${cluster}/${index.toString(16).padStart(32, '0')}`;

/** The address the mocks give task number `index`. */
export const taskIp = (index: number): string => `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;

/** A described awsvpc task. */
export const describedTask = (arn: string, ip: string, lastStatus = 'RUNNING', desiredStatus = lastStatus): Task => ({
  taskArn: arn,
  lastStatus,
  desiredStatus,
  attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: ip }] }],
});

/** Real SDK clients for aws-sdk-client-mock to stub (no region or credentials lookups happen). */
export const newClients = (): Clients => ({
  tagging: new ResourceGroupsTaggingAPIClient({ region: 'us-east-1' }),
  ecs: new ECSClient({ region: 'us-east-1' }),
  ssm: new SSMClient({ region: 'us-east-1' }),
  serviceDiscovery: new ServiceDiscoveryClient({ region: 'us-east-1' }),
});

/** An SDK service error as the SDK raises it, e.g. `awsError('ThrottlingException', 'Rate exceeded')`. */
export const awsError = (name: string, message: string, fault: 'client' | 'server' = 'client'): Error =>
  Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'client' ? 400 : 500 },
  });
