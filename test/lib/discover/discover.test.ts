import { DescribeTasksCommand, ListTasksCommand, type DescribeTasksCommandInput } from '@aws-sdk/client-ecs';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { discover, hasTags } from '../../../lib/discover/index.js';
import { startRun } from '../../../lib/runScope.js';
import { describedTask, newClients, taskArn, taskIp } from '../../support/mockAws.js';
import { ecs, resetStubs, tagging } from '../../support/stubAws.js';

beforeEach(resetStubs);

/**
 * `count` tasks of `prod` listed by ListTasks in pages of 100; every `untaggedEvery`th carries no tags
 * (`tags: []`); the tasks `untold` selects are described without a `tags` field at all.
 */
const serveCluster = (count: number, untaggedEvery = 0, untold: (index: number) => boolean = () => false) => {
  const arns = Array.from({ length: count }, (_, index) => taskArn('prod', index));
  for (let page = 0; page * 100 < Math.max(1, count); page += 1) {
    ecs.on(ListTasksCommand, { nextToken: page === 0 ? undefined : `t${page}` }).resolves({
      taskArns: arns.slice(page * 100, page * 100 + 100),
      ...((page + 1) * 100 < count ? { nextToken: `t${page + 1}` } : {}),
    });
  }
  ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => ({
    tasks: (input.tasks ?? []).map((arn) => {
      const index = arns.indexOf(arn);
      const tagged = untaggedEvery === 0 || index % untaggedEvery !== 0;
      if (untold(index)) return describedTask(arn, taskIp(index));
      return { ...describedTask(arn, taskIp(index)), tags: tagged ? [{ key: 'app', value: 'shop' }] : [] };
    }),
    failures: [],
  }));
  return arns;
};

describe('discover on the ListTasks path', () => {
  it('lists the running tasks 100 a page, describes them with their tags, and keeps the tagged ones', async () => {
    serveCluster(250, 5);
    const found = await discover(newClients(), { app: ['shop'] }, 'prod', startRun(), 'listTasks');
    expect(found.tasks).toHaveLength(200);
    expect(ecs.commandCalls(ListTasksCommand).map((call) => call.args[0].input)).toEqual([
      { cluster: 'prod', desiredStatus: 'RUNNING', maxResults: 100 },
      { cluster: 'prod', desiredStatus: 'RUNNING', maxResults: 100, nextToken: 't1' },
      { cluster: 'prod', desiredStatus: 'RUNNING', maxResults: 100, nextToken: 't2' },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).every((call) => call.args[0].input.include?.[0] === 'TAGS')).toBe(
      true,
    );
    expect(found.cost).toEqual({ path: 'listTasks', calls: 6, shared: 200 });
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(0);
  });

  it('falls back to ListTasks when the Region has more tagged tasks than the Tagging API pages through', async () => {
    serveCluster(30);
    let page = 0;
    tagging.on(GetResourcesCommand).callsFake(async () => {
      page += 1;
      const arns = Array.from({ length: 100 }, (_, index) => taskArn('elsewhere', page * 100 + index));
      return { ResourceTagMappingList: arns.map((ResourceARN) => ({ ResourceARN })), PaginationToken: `p${page}` };
    });
    const found = await discover(newClients(), { app: ['shop'] }, 'prod', startRun(), 'tagging');
    expect(found).toMatchObject({ path: 'listTasks', tagged: 30 });
    expect(found.costs?.map((cost) => cost.path)).toEqual(['tagging', 'listTasks']);
    expect(found.fallback).toMatch(/^tag:GetResources: .*more than 100 pages/);
    expect(found.fallback).not.toMatch(/not published/);
  });

  it('fails, and does not fall back, when the Tagging API loops on empty pages', async () => {
    serveCluster(30);
    let page = 0;
    tagging
      .on(GetResourcesCommand)
      .callsFake(async () => ({ ResourceTagMappingList: [], PaginationToken: `p${++page}` }));
    await expect(discover(newClients(), { app: ['shop'] }, 'prod', startRun(), 'tagging')).rejects.toThrow(
      /tag:GetResources: more than 100 pages/,
    );
    expect(ecs.commandCalls(ListTasksCommand)).toHaveLength(0);
  });
});

describe('a DescribeTasks answer without the tags it was asked for', () => {
  /** The Tagging API's view of the same cluster: the tagged ones of `arns`, one page. */
  const serveTagging = (arns: readonly string[], untaggedEvery = 0) => {
    const tagged = arns.filter((_, index) => untaggedEvery === 0 || index % untaggedEvery !== 0);
    tagging
      .on(GetResourcesCommand)
      .resolves({ ResourceTagMappingList: tagged.map((ResourceARN) => ({ ResourceARN })) });
  };

  it('is not taken for untagged: the run takes the Tagging API, and both paths are charged to ListTasks', async () => {
    // One task of 250 comes back without `tags`: dropping it would publish 199 of 200 peers.
    const arns = serveCluster(250, 5, (index) => index === 7);
    serveTagging(arns, 5);
    const found = await discover(newClients(), { app: ['shop'] }, 'prod', startRun(), 'listTasks');
    expect(found.path).toBe('tagging');
    expect(found.tasks).toHaveLength(200);
    expect(found.fallback).toMatch(
      /^ecs:DescribeTasks: 1 task\(s\) described without the tags asked for \(include TAGS\), e\.g\. arn:/,
    );
    // ListTasks 3 pages + 3 DescribeTasks, then GetResources 2 pages (200 ARNs) + 2 DescribeTasks.
    expect(found.costs).toEqual([
      { path: 'listTasks', calls: 6 + 4, shared: 200 },
      { path: 'tagging', calls: 4, shared: 200 },
    ]);
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(1);
  });

  it('fails the run, naming the call, when the Tagging API was over its page limit already', async () => {
    serveCluster(30, 0, () => true);
    let page = 0;
    tagging.on(GetResourcesCommand).callsFake(async () => {
      page += 1;
      const arns = Array.from({ length: 100 }, (_, index) => taskArn('elsewhere', page * 100 + index));
      return { ResourceTagMappingList: arns.map((ResourceARN) => ({ ResourceARN })), PaginationToken: `p${page}` };
    });
    await expect(discover(newClients(), { app: ['shop'] }, 'prod', startRun(), 'tagging')).rejects.toThrow(
      /^ecs:DescribeTasks: cluster prod: 30 task\(s\) described without the tags asked for .*over its page limit/,
    );
    expect(page).toBe(100); // the page limit, once: no second pass through the Tagging API
  });

  it('`tags: []` is an untagged task: no fallback', async () => {
    serveCluster(10, 2);
    const found = await discover(newClients(), { app: ['shop'] }, 'prod', startRun(), 'listTasks');
    expect(found).toMatchObject({ path: 'listTasks', tagged: 5 });
    expect(found.fallback).toBeUndefined();
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(0);
  });
});

describe('hasTags', () => {
  it('wants every configured key with one of its values, as the Tagging API filters', () => {
    const task = {
      tags: [
        { key: 'app', value: 'shop' },
        { key: 'env', value: 'prod' },
      ],
    };
    expect(hasTags(task, { app: ['shop'], env: ['prod', 'canary'] })).toBe(true);
    expect(hasTags(task, { app: ['shop'], env: ['canary'] })).toBe(false);
    expect(hasTags(task, { team: ['x'] })).toBe(false);
    expect(hasTags({}, { app: ['shop'] })).toBe(false);
  });
});
