import { classifyTrigger } from '../../../lib/trigger/index.js';
import { TriggerError } from '../../../lib/errors.js';

const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {}, id: '1', resources: [] };
const taskEvent = (cluster: string) => ({
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  resources: [`arn:aws:ecs:us-east-1:123456789012:task/${cluster}/abc`],
  detail: {
    clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${cluster}`,
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/abc`,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    version: 3,
  },
});
const sqs = (...bodies: string[]) => ({
  Records: bodies.map((body, index) => ({ eventSource: 'aws:sqs', messageId: `m${index}`, body, attributes: {} })),
});

describe('classifyTrigger', () => {
  it('runs on a scheduled event', () => {
    expect(classifyTrigger(scheduled, 'shop')).toEqual({
      kind: 'schedule',
      force: false,
      dryRun: false,
      failedMessageIds: [],
    });
  });

  it('runs on a task event of the configured cluster', () => {
    const trigger = classifyTrigger(taskEvent('shop'), 'shop');
    expect(trigger.kind).toBe('task-state-change');
    expect(trigger.ignored).toBeUndefined();
  });

  it('ignores a task event of another cluster', () => {
    expect(classifyTrigger(taskEvent('other'), 'shop').ignored).toBe('task event for cluster other, not shop');
  });

  it.each([
    [
      'another account',
      'arn:aws:ecs:us-east-1:999999999999:cluster/shop',
      /cluster shop of account 999999999999, not 123456789012/,
    ],
    [
      'another Region',
      'arn:aws:ecs:eu-west-1:123456789012:cluster/shop',
      /cluster shop in Region eu-west-1, not us-east-1/,
    ],
  ])('ignores a task event of a same-named cluster in %s', (_name, clusterArn, reason) => {
    const event = { ...taskEvent('shop'), detail: { ...taskEvent('shop').detail, clusterArn } };
    const scope = { cluster: 'shop', account: '123456789012', region: 'us-east-1' };
    expect(classifyTrigger(event, scope).ignored).toMatch(reason);
    expect(classifyTrigger(event, { ...scope, cluster: undefined }).ignored).toMatch(reason);
    expect(classifyTrigger(sqs(JSON.stringify(event)), scope).ignored).toMatch(reason);
    expect(classifyTrigger(taskEvent('shop'), scope).ignored).toBeUndefined();
  });

  it('names at most a few distinct reasons when a large SQS batch is all ignored', () => {
    const bodies = Array.from({ length: 10_000 }, (_, index) => JSON.stringify(taskEvent(`c${index}`)));
    const { ignored } = classifyTrigger(sqs(...bodies), 'shop');
    expect(ignored).toMatch(/^every message is ignored \(task event for cluster c0, not shop; .* and 9995 more\)$/);
    expect(ignored!.length).toBeLessThan(1000);
  });

  it('runs on any cluster task event when no cluster is configured', () => {
    expect(classifyTrigger(taskEvent('other'), undefined).ignored).toBeUndefined();
  });

  it('treats {} as a plain manual run and reads force and dryRun', () => {
    expect(classifyTrigger({}, 'shop')).toMatchObject({ kind: 'manual', force: false, dryRun: false });
    expect(classifyTrigger({ force: true }, 'shop')).toMatchObject({ kind: 'manual', force: true, dryRun: false });
    expect(classifyTrigger({ dryRun: true, force: true }, 'shop')).toMatchObject({ force: true, dryRun: true });
  });

  it('runs once for an SQS batch with at least one event of the cluster', () => {
    const trigger = classifyTrigger(sqs(JSON.stringify(taskEvent('other')), JSON.stringify(taskEvent('shop'))), 'shop');
    expect(trigger).toEqual({ kind: 'sqs', force: false, dryRun: false, failedMessageIds: [] });
  });

  it('ignores an SQS batch whose events are all about other clusters', () => {
    expect(classifyTrigger(sqs(JSON.stringify(taskEvent('other'))), 'shop').ignored).toMatch(/cluster other, not shop/);
  });

  it('reports SQS messages that hold no event as failed, and still runs for the good ones', () => {
    const trigger = classifyTrigger(sqs('not json', JSON.stringify({ hello: 1 }), JSON.stringify(scheduled)), 'shop');
    expect(trigger.failedMessageIds).toEqual(['m0', 'm1']);
    expect(trigger.ignored).toBeUndefined();
  });

  it('runs nothing when no SQS message holds an event', () => {
    const trigger = classifyTrigger(sqs('garbage'), 'shop');
    expect(trigger.ignored).toBe('no message holds an EventBridge event');
    expect(trigger.failedMessageIds).toEqual(['m0']);
  });

  it.each([
    ['null', null],
    ['a string', 'force'],
    ['an array', []],
    ['an unknown key', { forse: true }],
    ['a non-boolean flag', { dryRun: 'yes' }],
    [
      'another EventBridge event',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
    ],
    ['a task event without a cluster', { source: 'aws.ecs', 'detail-type': 'ECS Task State Change', detail: {} }],
    ['an empty SQS batch', { Records: [] }],
    ['records from another source', { Records: [{ eventSource: 'aws:sns', messageId: 'x', body: '{}' }] }],
  ])('rejects %s with a TriggerError', (_name, payload) => {
    expect(() => classifyTrigger(payload, 'shop')).toThrow(TriggerError);
    expect(() => classifyTrigger(payload, 'shop')).toThrow(/nothing was written/);
  });
});
