/** Starts moto for one integration test file and points the AWS SDK's standard variables at it. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Clients } from '../../lib/clients.js';
import { startMoto, type MotoServer } from '../../testbed/motoServer.js';

/** The standard AWS variables that point an SDK (ours or a child process's) at moto. */
export const motoEnvironment = (moto: MotoServer): Record<string, string> => ({
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
});

/**
 * Starts moto and sets the AWS variables of this process to it.
 *
 * @param env - extra environment for moto itself
 */
export const useMoto = async (env: Record<string, string> = {}): Promise<MotoServer> => {
  const moto = await startMoto(env);
  Object.assign(process.env, motoEnvironment(moto));
  return moto;
};

/** Clients for the reconciler, plus EC2 for seeding, all configured from the environment (moto). */
export const motoClients = (): Clients & { ec2: EC2Client } => ({
  tagging: new ResourceGroupsTaggingAPIClient({}),
  ecs: new ECSClient({}),
  ssm: new SSMClient({}),
  serviceDiscovery: new ServiceDiscoveryClient({}),
  ec2: new EC2Client({}),
});
