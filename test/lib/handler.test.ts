import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { jest } from '@jest/globals';
import type { Config } from '../../lib/config.js';
import { ConfigError, OverwriteRaceError, TriggerError } from '../../lib/errors.js';
import { createHandler } from '../../lib/handler.js';
import { METRIC } from '../../lib/metrics.js';
import { scheduled, taskEvent as anyTaskEvent } from '../support/events.js';
import { awsError, describedTask, newClients, taskArn, taskIp } from '../support/mockAws.js';
import { RegisterInstanceCommand } from '@aws-sdk/client-servicediscovery';
import { serveService, SERVICE_ID, serviceDiscovery } from '../support/stubCloudMap.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const ecs = mockClient(ECSClient);
const ssm = mockClient(SSMClient);

const taskEvent = (cluster: string) => anyTaskEvent(cluster, 'STOPPED');
const context = { awsRequestId: 'req-1', functionName: 'reconcile', functionVersion: '$LATEST' } as Context;
const config: Config = {
  peersParameter: '/ecs-peers/shop',
  taskTags: { app: ['shop'] },
  cluster: 'prod',
  nodeBasename: 'shop',
};

const setup = (withConfig: Config = config) => {
  const logger = new Logger({ logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  const logs = {
    info: jest.spyOn(logger, 'info'),
    error: jest.spyOn(logger, 'error'),
    warn: jest.spyOn(logger, 'warn'),
  };
  const added = jest.spyOn(metrics, 'addMetric');
  const handler = createHandler({ config: withConfig, clients: newClients(), logger, metrics });
  return { handler, logs, added };
};

beforeEach(() => {
  tagging.reset();
  ecs.reset();
  ssm.reset();
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: taskArn('prod', 1) }] });
  ecs.on(DescribeTasksCommand).resolves({ tasks: [describedTask(taskArn('prod', 1), taskIp(1))], failures: [] });
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'none', $metadata: {} }));
  ssm.on(PutParameterCommand).resolves({ Version: 1 });
});

const inAccount = (account: string) =>
  ({ ...context, invokedFunctionArn: `arn:aws:lambda:us-east-1:${account}:function:reconcile` }) as Context;

describe('the reconcile handler', () => {
  it('reconciles on a scheduled event, logs one report line and records metrics', async () => {
    const { handler, logs, added } = setup();
    const result = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, context);
    expect(result).toMatchObject({ trigger: 'schedule', nodes: [`shop@${taskIp(1)}`], changed: true, written: true });
    expect(result.batchItemFailures).toBeUndefined();
    expect(logs.info).toHaveBeenCalledTimes(1);
    expect(logs.info).toHaveBeenCalledWith('reconciled: parameter written', { report: result });
    expect(added).toHaveBeenCalledWith(METRIC.peers, 'Count', 1);
    expect(added).toHaveBeenCalledWith(METRIC.success, 'Count', 1);
  });

  it('acknowledges a task event of another cluster without any AWS call', async () => {
    const { handler } = setup();
    const result = await handler(taskEvent('staging'), context);
    expect(result).toMatchObject({
      trigger: 'task-state-change',
      ignored: 'task event for cluster staging, not prod',
      written: false,
    });
    expect([...tagging.calls(), ...ecs.calls(), ...ssm.calls()]).toHaveLength(0);
  });

  it('runs one reconcile for an SQS batch and returns bad messages as batch item failures', async () => {
    const { handler } = setup();
    const records = [JSON.stringify(taskEvent('prod')), 'junk', JSON.stringify(taskEvent('prod'))].map(
      (body, index) => ({
        eventSource: 'aws:sqs',
        messageId: `m${index}`,
        body,
      }),
    );
    const result = await handler({ Records: records }, context);
    expect(result).toMatchObject({ trigger: 'sqs', written: true, batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(1);
  });

  it('makes no AWS call for an SQS batch whose events are all about other clusters', async () => {
    const { handler } = setup();
    const body = JSON.stringify(taskEvent('staging'));
    const result = await handler({ Records: [{ eventSource: 'aws:sqs', messageId: 'm0', body }] }, context);
    expect(result).toMatchObject({ trigger: 'sqs', written: false, batchItemFailures: [] });
    expect(result.ignored).toMatch(/cluster staging, not prod/);
    expect([...tagging.calls(), ...ecs.calls(), ...ssm.calls()]).toHaveLength(0);
  });

  it('returns a report without writing on a dry run', async () => {
    const { handler } = setup();
    const result = await handler({ dryRun: true }, context);
    expect(result).toMatchObject({ trigger: 'manual', dryRun: true, changed: true, written: false });
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('rejects an unknown payload, counts an error and calls nothing', async () => {
    const { handler, logs, added } = setup();
    await expect(handler({ resync: 'now' }, context)).rejects.toThrow(TriggerError);
    expect(added).toHaveBeenCalledWith(METRIC.errors, 'Count', 1);
    expect(logs.error).toHaveBeenCalled();
    expect([...tagging.calls(), ...ecs.calls(), ...ssm.calls()]).toHaveLength(0);
  });

  it('fails the invocation and logs the failed call when AWS fails, writing nothing', async () => {
    const { handler, logs } = setup();
    ecs.on(DescribeTasksCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(handler({}, context)).rejects.toThrow(/ecs:DescribeTasks/);
    expect(logs.error).toHaveBeenCalledWith(
      'reconcile failed; the parameter keeps its last value',
      expect.objectContaining({ failedCall: 'ecs:DescribeTasks' }),
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('logs a write that raced another writer as such, not as a kept value', async () => {
    const { handler, logs } = setup();
    const stored = { Name: '/ecs-peers/shop', Value: '{"version":1,"nodes":[]}', Version: 4 };
    ssm.on(GetParameterCommand).resolves({ Parameter: stored });
    ssm.on(PutParameterCommand).resolves({ Version: 6 }); // version 5 was another writer's
    await expect(handler({}, context)).rejects.toThrow(OverwriteRaceError);
    expect(logs.error).toHaveBeenCalledWith(
      'reconcile failed; its write raced another writer and the next run republishes',
      expect.objectContaining({ failedCall: 'ssm:PutParameter' }),
    );
  });

  it('ignores a task event of a same-named cluster in another account, without any AWS call', async () => {
    const { handler } = setup();
    const result = await handler(taskEvent('prod'), inAccount('999999999999'));
    expect(result.ignored).toBe('task event for cluster prod of account 123456789012, not 999999999999');
    expect([...tagging.calls(), ...ecs.calls(), ...ssm.calls()]).toHaveLength(0);
  });

  it('fails every invocation, calling nothing, when ECS_CLUSTER is the ARN of another account', async () => {
    const handler = createHandler({
      config: { ...config, clusterAccount: '111111111111' },
      clients: newClients(),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
    });
    await expect(handler({}, inAccount('222222222222'))).rejects.toThrow(ConfigError);
    expect([...tagging.calls(), ...ecs.calls(), ...ssm.calls()]).toHaveLength(0);
  });

  it('lists at most 20 failed SQS message ids in its log line and says how many it left out', async () => {
    const { handler, logs } = setup();
    const records = Array.from({ length: 10_000 }, (_, index) => ({
      eventSource: 'aws:sqs',
      messageId: `message-${index}`,
      body: index === 0 ? JSON.stringify(taskEvent('prod')) : 'junk',
    }));
    const result = await handler({ Records: records }, context);
    expect(result.batchItemFailures).toHaveLength(9_999);
    const [message, fields] = logs.warn.mock.calls[0] as [string, Record<string, unknown>];
    expect(message).toMatch(/batch item failures/);
    expect(fields).toEqual({
      failedMessages: 9_999,
      messageIds: Array.from({ length: 20 }, (_, index) => `message-${index + 1}`),
      messageIdsOmitted: 9_979,
    });
    expect(JSON.stringify(fields).length).toBeLessThan(1000);
  });

  it('ends a run that outlasts its time budget with a named error, a log line and ReconcileErrors, writing nothing', async () => {
    const { handler, logs, added } = setup();
    ecs.on(DescribeTasksCommand).callsFake(() => new Promise(() => {})); // never answers
    const started = Date.now();
    const short = { ...context, getRemainingTimeInMillis: () => 500 } as Context; // budget 300 ms
    await expect(handler({}, short)).rejects.toThrow(
      /^ecs:DescribeTasks: cluster prod: RunDeadlineError: the run's time budget of 300 ms ran out during this call/,
    );
    expect(Date.now() - started).toBeLessThan(490); // before middy's own timeout (remaining - 5 ms)
    expect(added).toHaveBeenCalledWith(METRIC.errors, 'Count', 1);
    expect(logs.error).toHaveBeenCalledWith(
      'reconcile failed; the parameter keeps its last value',
      expect.objectContaining({ failedCall: 'ecs:DescribeTasks' }),
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('keeps the error log line and the thrown message small when AWS answers with a huge error', async () => {
    const { handler, logs } = setup();
    const huge = Object.assign(awsError('InternalFailure', 'x'.repeat(1_000_000), 'server'), {
      $responseBodyText: 'y'.repeat(1_000_000),
    });
    tagging.on(GetResourcesCommand).rejects(huge);
    const failure = (await handler({}, context).catch((error: unknown) => error)) as Error;
    expect(failure.message.length).toBeLessThan(1500);
    expect(failure.message).toMatch(
      /^tag:GetResources: InternalFailure: x+\.\.\. \(\d+ more characters\); the peer set/,
    );
    const [, fields] = logs.error.mock.calls[0] as [string, { error: Error }];
    const line = JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error
        ? { ...value, name: value.name, message: value.message, stack: value.stack, cause: value.cause }
        : value,
    );
    expect(line.length).toBeLessThan(10_000);
    expect(line).not.toContain('yyyy');
    expect(line).toContain('"httpStatusCode":500');
  });
});

describe('the log lines name the stores a run published to', () => {
  const { peersParameter: _ssm, ...rest } = config;
  const cloudMapOnly: Config = { ...rest, cloudMapServiceId: SERVICE_ID, region: 'us-east-1' };

  it('Cloud Map alone: written, then unchanged; a failed discovery leaves it unchanged', async () => {
    serveService();
    const { handler, logs } = setup(cloudMapOnly);
    const first = await handler(scheduled, context);
    expect(logs.info).toHaveBeenLastCalledWith('reconciled: Cloud Map service written', { report: first });
    const second = await handler(scheduled, context);
    expect(logs.info).toHaveBeenLastCalledWith('reconciled: Cloud Map service unchanged', { report: second });
    expect(ssm.calls()).toHaveLength(0);

    tagging.on(GetResourcesCommand).rejects(awsError('ThrottlingException', 'slow down'));
    await expect(handler(scheduled, context)).rejects.toThrow(/tag:GetResources/);
    expect(logs.error).toHaveBeenCalledWith(
      'reconcile failed; Cloud Map is unchanged',
      expect.objectContaining({ failedCall: 'tag:GetResources' }),
    );
  });

  it('both stores: a failed Cloud Map write says the parameter holds the new set and no live peer was lost', async () => {
    serveService();
    serviceDiscovery.on(RegisterInstanceCommand).rejects(awsError('AccessDeniedException', 'no'));
    const { handler, logs } = setup({ ...cloudMapOnly, peersParameter: '/ecs-peers/shop' });
    await expect(handler(scheduled, context)).rejects.toThrow(/servicediscovery:RegisterInstance/);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    expect(logs.error).toHaveBeenCalledWith(
      "reconcile failed; the parameter holds this run's set; Cloud Map lost no live peer (a write cut short may have registered some)",
      expect.objectContaining({ failedCall: 'servicediscovery:RegisterInstance' }),
    );
  });

  it('both stores: the ones written are named written, and only those', async () => {
    serveService();
    const { handler, logs } = setup({ ...cloudMapOnly, peersParameter: '/ecs-peers/shop' });
    const first = await handler(scheduled, context);
    expect(logs.info).toHaveBeenLastCalledWith('reconciled: parameter and Cloud Map service written', {
      report: first,
    });

    // The parameter already holds the set; the service is new and empty.
    serveService();
    const value = `{"version":1,"nodes":["shop@${taskIp(1)}"]}`;
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/ecs-peers/shop', Value: value, Version: 1 } });
    const second = await handler(scheduled, context);
    expect(second.stores).toMatchObject({ ssm: { written: false }, cloudMap: { written: true } });
    expect(logs.info).toHaveBeenLastCalledWith('reconciled: Cloud Map service written', { report: second });
  });

  it('a dry run says nothing was written, and whether the set differs', async () => {
    serveService();
    const { handler, logs } = setup({ ...cloudMapOnly, peersParameter: '/ecs-peers/shop' });
    const dry = await handler({ dryRun: true }, context);
    expect(dry).toMatchObject({ changed: true, written: false });
    expect(logs.info).toHaveBeenLastCalledWith(
      'reconciled (dry run): nothing written; the set differs from the published one',
      {
        report: dry,
      },
    );
  });

  it('both stores: a raced parameter write says so, and that Cloud Map is unchanged (it is written after)', async () => {
    const service = serveService();
    const stored = { Name: '/ecs-peers/shop', Value: '{"version":1,"nodes":[]}', Version: 4 };
    ssm.on(GetParameterCommand).resolves({ Parameter: stored });
    ssm.on(PutParameterCommand).resolves({ Version: 6 }); // version 5 was another writer's
    const { handler, logs } = setup({ ...cloudMapOnly, peersParameter: '/ecs-peers/shop' });
    await expect(handler(scheduled, context)).rejects.toThrow(OverwriteRaceError);
    expect(logs.error).toHaveBeenCalledWith(
      'reconcile failed; its write raced another writer and the next run republishes; Cloud Map is unchanged',
      expect.objectContaining({ failedCall: 'ssm:PutParameter' }),
    );
    expect(service.writes).toEqual([]);
  });
});

describe('a ListTasks run whose DescribeTasks sends no tags field', () => {
  // 150 tagged tasks elsewhere in the Region and one in `prod`: the Tagging API costs 2 pages + 1 DescribeTasks,
  // above the floor of 2, so the second run measures ListTasks.
  beforeEach(() => {
    const elsewhere = Array.from({ length: 150 }, (_, index) => ({ ResourceARN: taskArn('elsewhere', index) }));
    tagging.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [...elsewhere, { ResourceARN: taskArn('prod', 1) }],
    });
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn('prod', 1)] });
    // With or without include TAGS, the answer has no tags field.
    ecs.on(DescribeTasksCommand).resolves({ tasks: [describedTask(taskArn('prod', 1), taskIp(1))], failures: [] });
  });

  it('falls back on the Tagging API, warns why, and the next runs leave ListTasks', async () => {
    const { handler, logs } = setup();
    const runs = [];
    for (let run = 0; run < 4; run += 1) runs.push(await handler(scheduled, context));
    expect(runs.map((report) => report.tasks.discovery)).toEqual(['tagging', 'tagging', 'tagging', 'tagging']);
    expect(runs.map((report) => report.nodes)).toEqual(Array(4).fill([`shop@${taskIp(1)}`]));
    expect(runs[1]!.tasks.fallback).toMatch(/^ecs:DescribeTasks: 1 task\(s\) described without a tags field/);
    expect(logs.warn).toHaveBeenCalledWith('discovery took the other path', {
      discovery: 'tagging',
      reason: runs[1]!.tasks.fallback,
    });
    expect(ecs.commandCalls(ListTasksCommand)).toHaveLength(1);
  });
});
