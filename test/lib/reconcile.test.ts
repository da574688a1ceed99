/**
 * What moto cannot show: AWS limits (100 ARNs per DescribeTasks, short pages, MISSING failures), throttling and
 * errors mid-run, and exact call counts. The clients are real SDK clients whose send is stubbed.
 */
import { DescribeTasksCommand, type DescribeTasksCommandInput } from '@aws-sdk/client-ecs';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { DiscoveryError, PublishError } from '../../lib/errors.js';
import { decodeV2, parseManifest } from '../../lib/peerSet/index.js';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { reconcile } from '../../lib/reconcile.js';
import { awsError, describedTask, newClients, taskArn, taskIp } from '../support/mockAws.js';
import {
  config,
  ecs,
  estate,
  nodesOf,
  resetStubs,
  scheduled,
  serveAll,
  servePages,
  serveParameter,
  serveTasks,
  ssm,
  tagging,
} from '../support/stubAws.js';

beforeEach(resetStubs);

describe('reconcile against stubbed AWS', () => {
  it('follows short GetResources pages to the end and describes 250 tasks in chunks of at most 100', async () => {
    const tasks = estate(250);
    servePages([...tasks.keys()], [40, 0, 100, 60, 50]);
    serveTasks(tasks);

    const report = await reconcile(newClients(), config, scheduled);

    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(5);
    const chunks = ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input);
    expect(chunks.map((input) => input.tasks?.length)).toEqual([100, 100, 50]);
    expect(chunks.every((input) => input.cluster === 'prod')).toBe(true);
    expect(new Set(chunks.flatMap((input) => input.tasks)).size).toBe(250);
    expect(report.nodes).toEqual(nodesOf(tasks));
    expect(report.apiCalls).toEqual({
      'tag:GetResources': 5,
      'ecs:DescribeTasks': 3,
      'ssm:GetParameter': 2, // at the start, and again just before the write
      'ssm:PutParameter': 1,
    });
    expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input).toMatchObject({
      Name: '/ecs-peers/shop',
      Value: encodePeerSet(nodesOf(tasks)),
      Overwrite: false, // the parameter did not exist: SSM refuses atomically if someone created it meanwhile
      Type: 'String',
    });
  });

  it('asks for ecs:task resources with the configured tag filters', async () => {
    servePages([], [0]);
    await reconcile(newClients(), { ...config, taskTags: { app: ['shop'], env: ['prod', 'canary'] } }, scheduled);
    expect(tagging.commandCalls(GetResourcesCommand)[0]!.args[0].input).toEqual({
      ResourceTypeFilters: ['ecs:task'],
      TagFilters: [
        { Key: 'app', Values: ['shop'] },
        { Key: 'env', Values: ['prod', 'canary'] },
      ],
      ResourcesPerPage: 100,
    });
  });

  it('describes only the configured cluster, or each cluster on its own when none is configured', async () => {
    const prod = estate(3, 'prod');
    const staging = estate(2, 'staging', 100);
    servePages([...prod.keys(), ...staging.keys()], [5]);
    serveTasks(new Map([...prod, ...staging]));

    const scoped = await reconcile(newClients(), config, scheduled);
    expect(ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.cluster)).toEqual(['prod']);
    expect(scoped.nodes).toEqual(nodesOf(prod));
    expect(scoped.tasks).toMatchObject({ tagged: 5, inCluster: 3 });

    ecs.resetHistory();
    const { cluster: _omit, ...everywhere } = config;
    const all = await reconcile(newClients(), everywhere, scheduled);
    expect(
      ecs
        .commandCalls(DescribeTasksCommand)
        .map((call) => call.args[0].input.cluster)
        .sort(),
    ).toEqual(['prod', 'staging']);
    expect(all.nodes).toEqual(nodesOf(new Map([...prod, ...staging])));
  });

  it('keeps only tasks running and meant to run', async () => {
    const tasks = estate(3);
    const [, b, c] = [...tasks.keys()];
    tasks.set(b!, describedTask(b!, taskIp(1), 'RUNNING', 'STOPPED'));
    tasks.set(c!, { ...describedTask(c!, taskIp(2), 'PROVISIONING', 'RUNNING') });
    servePages([...tasks.keys()], [3]);
    serveTasks(tasks);

    const report = await reconcile(newClients(), config, scheduled);
    expect(report.nodes).toEqual([`shop@${taskIp(0)}`]);
    expect(report.tasks.skipped).toEqual({ stopping: 1, 'not-running': 1 });
  });

  it('fails, writing nothing, when a running task has no private IPv4 (bridge or host network mode)', async () => {
    const tasks = estate(3);
    tasks.set(taskArn('prod', 9), { taskArn: taskArn('prod', 9), lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    servePages([...tasks.keys()], [4]);
    serveTasks(tasks);
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(
      /1 running task\(s\) have no usable private IPv4 address: .*task\/prod\/0+9 \(network mode bridge or host .*awsvpc/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('fails, writing nothing, when tasks carry old-format ARNs and ECS_CLUSTER is not set', async () => {
    servePages(['arn:aws:ecs:us-east-1:123456789012:task/0123abcd'], [1]);
    const { cluster: _omit, ...everywhere } = config;
    await expect(reconcile(newClients(), everywhere, scheduled)).rejects.toThrow(/old-format ARN .* set ECS_CLUSTER/);
    expect(ecs.calls()).toHaveLength(0);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('drops tasks DescribeTasks reports MISSING', async () => {
    const tasks = estate(3);
    servePages([...tasks.keys(), taskArn('prod', 500), taskArn('prod', 501)], [5]);
    serveTasks(tasks);
    const report = await reconcile(newClients(), config, scheduled);
    expect(report.nodes).toEqual(nodesOf(tasks));
    expect(report.tasks.missing).toBe(2);
  });

  it('aborts when DescribeTasks leaves a task unaccounted for (neither described nor failed), writing nothing', async () => {
    const tasks = estate(3);
    servePages([...tasks.keys()], [3]);
    ecs.on(DescribeTasksCommand).resolves({ tasks: [...tasks.values()].slice(0, 2), failures: [] });
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(
      /ecs:DescribeTasks: cluster prod: InvalidResponseError: no answer for 1 task\(s\)/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('sends none of the waiting DescribeTasks calls once one has failed', async () => {
    const tasks = estate(1000);
    servePages(
      [...tasks.keys()],
      Array.from({ length: 10 }, () => 100),
    );
    serveTasks(tasks);
    ecs
      .on(DescribeTasksCommand, { tasks: [...tasks.keys()].slice(0, 100) })
      .rejects(awsError('AccessDeniedException', 'no'));
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(/AccessDeniedException/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(5); // the first five, in flight together
  });

  it('aborts on a DescribeTasks failure other than MISSING, writing nothing', async () => {
    servePages([taskArn('prod', 1)], [1]);
    ecs
      .on(DescribeTasksCommand)
      .resolves({ tasks: [], failures: [{ arn: taskArn('prod', 1), reason: 'ACCESS_DENIED', detail: 'x' }] });
    const run = reconcile(newClients(), config, scheduled);
    await expect(run).rejects.toThrow(DiscoveryError);
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(
      /ecs:DescribeTasks: task .* failed: ACCESS_DENIED \(x\)/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('leaves the parameter untouched when DescribeTasks is throttled mid-run', async () => {
    const tasks = estate(300);
    servePages([...tasks.keys()], [100, 100, 100]);
    serveTasks(tasks);
    ecs
      .on(DescribeTasksCommand, { tasks: [...tasks.keys()].slice(100, 200) })
      .rejects(awsError('ThrottlingException', 'Rate exceeded'));

    const failure = await reconcile(newClients(), config, scheduled).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DiscoveryError);
    expect((failure as DiscoveryError).api).toBe('ecs:DescribeTasks');
    expect((failure as Error).message).toMatch(/ThrottlingException: Rate exceeded; the peer set was not published/);
    expect(((failure as Error).cause as Error).name).toBe('ThrottlingException');
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('leaves the parameter untouched when a later GetResources page fails', async () => {
    const tasks = estate(150);
    servePages([...tasks.keys()], [100, 50]);
    tagging
      .on(GetResourcesCommand, { PaginationToken: 'token-1' })
      .rejects(awsError('InternalServiceException', 'boom', 'server'));
    serveTasks(tasks);
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(
      /tag:GetResources: InternalServiceException: boom/,
    );
    expect(ecs.calls()).toHaveLength(0);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('keeps at most 5 DescribeTasks calls in flight', async () => {
    const tasks = estate(1000);
    const running = new Set([...tasks.keys()].slice(0, 50));
    servePages(
      [...tasks.keys()],
      Array.from({ length: 10 }, () => 100),
    );
    let inFlight = 0;
    let most = 0;
    ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      const described = (input.tasks ?? []).map((arn) => ({
        ...tasks.get(arn)!,
        lastStatus: running.has(arn) ? 'RUNNING' : 'STOPPED',
      }));
      return { tasks: described, failures: [] };
    });
    const report = await reconcile(newClients(), config, scheduled);
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(10);
    expect(most).toBe(5);
    expect(report.nodes).toHaveLength(50);
    expect(report.tasks.skipped).toEqual({ 'not-running': 950 });
  });
});

describe('publishing', () => {
  const tasks = estate(3);
  const value = encodePeerSet(nodesOf(tasks));
  beforeEach(() => {
    servePages([...tasks.keys()], [3]);
    serveTasks(tasks);
  });

  it('writes nothing when the published set is the same', async () => {
    serveParameter(value, 7);
    const report = await reconcile(newClients(), config, scheduled);
    expect(report).toMatchObject({ changed: false, written: false, version: 7, added: [], removed: [] });
    expect(report.apiCalls['ssm:GetParameter']).toBe(1);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('writes an unchanged set when forced', async () => {
    serveParameter(value, 7);
    const report = await reconcile(newClients(), config, { ...scheduled, kind: 'manual', force: true });
    expect(report).toMatchObject({ changed: false, written: true, version: 8 });
  });

  it('computes the change but writes nothing on a dry run, even when forced', async () => {
    serveParameter(encodePeerSet(['shop@10.9.9.9']), 3);
    const report = await reconcile(newClients(), config, { ...scheduled, kind: 'manual', dryRun: true, force: true });
    expect(report).toMatchObject({ changed: true, written: false, version: 3, removed: ['shop@10.9.9.9'] });
    expect(report.added).toEqual(nodesOf(tasks));
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('overwrites a malformed published value', async () => {
    serveParameter('garbage', 2);
    const report = await reconcile(newClients(), config, scheduled);
    expect(report).toMatchObject({ changed: true, written: true, removed: [], version: 3 });
  });

  it('fails with PublishError, writing nothing, when the read fails', async () => {
    ssm.on(GetParameterCommand).rejects(awsError('ThrottlingException', 'slow down'));
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(PublishError);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('fails with PublishError naming the call when the write fails', async () => {
    ssm.on(PutParameterCommand).rejects(awsError('ThrottlingException', 'slow down'));
    await expect(reconcile(newClients(), config, scheduled)).rejects.toThrow(
      'ssm:PutParameter on /ecs-peers/shop failed (ThrottlingException: slow down); the parameter keeps its last value',
    );
  });
});

describe('size limits', () => {
  const basename = 'a-rather-long-node-basename-for-this-app';
  const run = (count: number) => {
    const tasks = estate(count);
    serveAll([...tasks.keys()]);
    serveTasks(tasks);
    return reconcile(newClients(), { ...config, nodeBasename: basename }, scheduled);
  };

  it('moves to the Advanced tier when the set is over 4096 characters', async () => {
    await run(100);
    const input = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(input.Value!.length).toBeGreaterThan(4096);
    expect(input.Tier).toBe('Advanced');
  });

  it('uses Intelligent-Tiering while the set fits Standard', async () => {
    await run(10);
    expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Tier).toBe('Intelligent-Tiering');
  });

  it('publishes a set over 8192 characters as v2: the parts first, then the manifest that names them', async () => {
    const tasks = estate(700);
    const report = await run(700);
    const puts = ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(puts.map((input) => input.Name)).toEqual(['/ecs-peers/shop/part/0', '/ecs-peers/shop']);
    expect(puts.every((input) => input.Value!.length <= 4096 && input.Tier === 'Intelligent-Tiering')).toBe(true);
    const manifest = parseManifest(puts[1]!.Value!)!;
    expect(decodeV2(manifest, [puts[0]!.Value!])).toEqual(
      [...tasks.values()].map((task) => `${basename}@${task.attachments![0]!.details![0]!.value}`).sort(),
    );
    expect(report).toMatchObject({ peerCount: 700, changed: true, written: true });
    expect(report.added).toHaveLength(700);
  });
});
