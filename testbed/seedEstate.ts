/**
 * Seeds an ECS estate into moto: clusters, a task definition, tagged and untagged awsvpc tasks, some stopped.
 */
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { privateIpv4 } from '../lib/discover/taskPeer.js';

/** Tasks to run in one cluster with one set of tags. */
export interface TaskGroup {
  cluster: string;
  count: number;
  /** Tags passed to RunTask; none makes untagged tasks. */
  tags?: Record<string, string>;
  /** How many of the group to stop after starting them. */
  stopped?: number;
}

/** A task moto started. */
export interface SeededTask {
  arn: string;
  cluster: string;
  ip: string;
  tags: Record<string, string>;
  running: boolean;
}

/** An estate seeded into moto, with what it takes to change it. */
export interface Estate {
  tasks: SeededTask[];
  /** Starts tasks in a cluster (created if needed). */
  run: (group: Omit<TaskGroup, 'stopped'>) => Promise<SeededTask[]>;
  /** Stops a task, as a deployment or a crash would. */
  stop: (task: SeededTask) => Promise<void>;
  /** The peer set the reconciler should publish: running tasks of `cluster` carrying every tag, sorted. */
  peers: (cluster: string, tags: Record<string, string>, basename?: string) => string[];
}

const FAMILY = 'ecs-peers-demo';
const RUN_TASK_MAX = 10;

/**
 * Seeds task groups into moto (or any ECS the clients point at) and returns the tasks with their IPs.
 *
 * @param ecs - ECS client
 * @param ec2 - EC2 client, to find a default-VPC subnet for awsvpc tasks
 * @param groups - what to run
 */
export const seedEstate = async (ecs: ECSClient, ec2: EC2Client, groups: readonly TaskGroup[]): Promise<Estate> => {
  const { Subnets } = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
  );
  const subnet = Subnets?.[0]?.SubnetId;
  const { SecurityGroups } = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }),
  );
  const securityGroup = SecurityGroups?.[0]?.GroupId;
  if (!subnet || !securityGroup) throw new Error('no default subnet and security group to run awsvpc tasks in');
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/docker/library/elixir:latest', memory: 512 }],
    }),
  );
  const clusters = new Set<string>();
  const tasks: SeededTask[] = [];

  const seeded = (task: Task, cluster: string, tags: Record<string, string>): SeededTask => ({
    arn: task.taskArn ?? '',
    cluster,
    ip: privateIpv4(task) ?? '',
    tags,
    running: true,
  });

  const run = async ({ cluster, count, tags = {} }: Omit<TaskGroup, 'stopped'>): Promise<SeededTask[]> => {
    if (!clusters.has(cluster)) {
      await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
      clusters.add(cluster);
    }
    const started: SeededTask[] = [];
    for (let left = count; left > 0; left -= RUN_TASK_MAX) {
      const response = await ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition: FAMILY,
          launchType: 'FARGATE',
          count: Math.min(left, RUN_TASK_MAX),
          networkConfiguration: {
            awsvpcConfiguration: { subnets: [subnet], securityGroups: [securityGroup], assignPublicIp: 'DISABLED' },
          },
          tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
        }),
      );
      started.push(...(response.tasks ?? []).map((task) => seeded(task, cluster, tags)));
    }
    tasks.push(...started);
    return started;
  };

  const stop = async (task: SeededTask): Promise<void> => {
    await ecs.send(new StopTaskCommand({ cluster: task.cluster, task: task.arn, reason: 'ecs-peers demo' }));
    task.running = false;
  };

  const peers = (cluster: string, tags: Record<string, string>, basename = 'shop'): string[] =>
    tasks
      .filter(
        (task) =>
          task.running &&
          task.cluster === cluster &&
          Object.entries(tags).every(([key, value]) => task.tags[key] === value),
      )
      .map((task) => `${basename}@${task.ip}`)
      .sort();

  for (const group of groups) {
    const started = await run(group);
    for (const task of started.slice(0, group.stopped ?? 0)) await stop(task);
  }
  return { tasks, run, stop, peers };
};

/** The demo estate: a prod cluster with tagged running and stopped tasks, untagged tasks, and a staging cluster. */
export const DEMO_ESTATE: readonly TaskGroup[] = [
  { cluster: 'shop-prod', count: 5, tags: { app: 'shop', env: 'prod' }, stopped: 1 },
  { cluster: 'shop-prod', count: 2, tags: { app: 'billing', env: 'prod' } },
  { cluster: 'shop-prod', count: 2 },
  { cluster: 'shop-canary', count: 3, tags: { app: 'shop', env: 'prod' } },
];
