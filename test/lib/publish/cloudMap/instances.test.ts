import type { Task } from '@aws-sdk/client-ecs';
import { nodesOf, peerInstances, planInstances, taskId } from '../../../../lib/publish/cloudMap/index.js';
import { describedTask, taskArn } from '../../../support/mockAws.js';

const serviceTask = (index: number, ip: string): Task => ({
  ...describedTask(taskArn('prod', index), ip),
  group: 'service:shop-web',
  availabilityZone: 'us-east-1b',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/shop:42',
});

describe('peerInstances', () => {
  it("gives each peer task one instance with the task id, its address, node name and ECS's attribute names", () => {
    const [instance] = peerInstances([serviceTask(1, '10.0.1.5')], 'shop', 'us-east-1');
    expect(instance).toEqual({
      id: taskId(taskArn('prod', 1)),
      attributes: {
        AWS_INSTANCE_IPV4: '10.0.1.5',
        ECS_PEERS_NODE: 'shop@10.0.1.5',
        AVAILABILITY_ZONE: 'us-east-1b',
        ECS_CLUSTER_NAME: 'prod',
        ECS_SERVICE_NAME: 'shop-web',
        ECS_TASK_DEFINITION_FAMILY: 'shop',
        REGION: 'us-east-1',
      },
    });
    expect(instance!.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('leaves out ECS_SERVICE_NAME for a task started outside a service, and what the task does not say', () => {
    const task = { ...describedTask(taskArn('prod', 2), '10.0.2.9'), group: 'family:shop' };
    expect(peerInstances([task], 'shop')[0]!.attributes).toEqual({
      AWS_INSTANCE_IPV4: '10.0.2.9',
      ECS_PEERS_NODE: 'shop@10.0.2.9',
      ECS_CLUSTER_NAME: 'prod',
      REGION: 'us-east-1', // from the task ARN when the function's Region is not known
    });
  });

  it('leaves out tasks that are not peers and sorts by id, the same attributes every time', () => {
    const tasks = [
      serviceTask(9, '10.0.0.9'),
      describedTask(taskArn('prod', 3), '10.0.0.3', 'STOPPED'),
      describedTask(taskArn('prod', 4), '10.0.0.4', 'RUNNING', 'STOPPED'),
      serviceTask(1, '10.0.0.1'),
    ];
    const first = peerInstances(tasks, 'shop', 'us-east-1');
    expect(first.map((instance) => instance.attributes.ECS_PEERS_NODE)).toEqual(['shop@10.0.0.1', 'shop@10.0.0.9']);
    expect(JSON.stringify(peerInstances([...tasks].reverse(), 'shop', 'us-east-1'))).toBe(JSON.stringify(first));
  });
});

describe('planInstances', () => {
  const a = { id: 'a', attributes: { ECS_PEERS_NODE: 'shop@10.0.0.1', AWS_INSTANCE_IPV4: '10.0.0.1' } };
  const b = { id: 'b', attributes: { ECS_PEERS_NODE: 'shop@10.0.0.2', AWS_INSTANCE_IPV4: '10.0.0.2' } };
  const c = { id: 'c', attributes: { ECS_PEERS_NODE: 'shop@10.0.0.3', AWS_INSTANCE_IPV4: '10.0.0.3' } };

  it('plans nothing when the registered instances match', () => {
    expect(planInstances([b, a], [a, b])).toEqual({ register: [], deregister: [], unchanged: 2, changed: false });
  });

  it('registers the new and the changed, deregisters the gone', () => {
    const moved = { id: 'b', attributes: { ...b.attributes, AVAILABILITY_ZONE: 'us-east-1a' } };
    expect(planInstances([a, b, c], [a, moved])).toEqual({
      register: [moved],
      deregister: ['c'],
      unchanged: 1,
      changed: true,
    });
    expect(planInstances([a], [a, b]).register).toEqual([b]);
  });

  it('registers every desired instance when forced, and still says whether anything differed', () => {
    expect(planInstances([a, b], [a, b], true)).toMatchObject({ register: [a, b], unchanged: 0, changed: false });
  });

  it('reads an id listed twice by its last entry and deregisters a gone one once per entry (moto appends)', () => {
    const old = { id: 'a', attributes: { ECS_PEERS_NODE: 'shop@10.9.9.9' } };
    expect(planInstances([old, a, c, c], [a])).toEqual({
      register: [],
      deregister: ['c', 'c'],
      unchanged: 1,
      changed: true,
    });
  });

  it('reads the node names readers see from the registered instances', () => {
    expect(nodesOf([c, a, { id: 'x', attributes: {} }])).toEqual(['shop@10.0.0.1', 'shop@10.0.0.3']);
  });
});
