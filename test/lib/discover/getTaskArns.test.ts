/**
 * GetResources answers the run must not trust: pages without their list (the SDK makes an empty 200 body `{}`),
 * pagination loops and endless pages. Each fails the run naming tag:GetResources; nothing is described or written.
 */
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { GET_RESOURCES_MAX_PAGES } from '../../../lib/constants.js';
import { getTaskArns } from '../../../lib/discover/index.js';
import { DiscoveryError } from '../../../lib/errors.js';
import { reconcile } from '../../../lib/reconcile.js';
import { startRun } from '../../../lib/runScope.js';
import { newClients, taskArn } from '../../support/mockAws.js';
import { config, ecs, estate, resetStubs, scheduled, serveTasks, ssm, tagging } from '../../support/stubAws.js';

beforeEach(resetStubs);

const page = (from: number, count: number, token?: string) => ({
  ResourceTagMappingList: Array.from({ length: count }, (_, index) => ({ ResourceARN: taskArn('prod', from + index) })),
  ...(token === undefined ? {} : { PaginationToken: token }),
});

const failure = async () => {
  serveTasks(estate(300));
  const error = await reconcile(newClients(), config, scheduled).catch((caught: unknown) => caught as Error);
  expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  return error as DiscoveryError;
};

describe('getTaskArns refuses answers that would shrink the set', () => {
  it.each([
    ['an empty body ({} to the SDK)', {}],
    ['a null list', { ResourceTagMappingList: null }],
    ['a list that is not a list', { ResourceTagMappingList: 'x' }],
  ])('fails on page 1 with %s instead of publishing an empty set', async (_name, answer) => {
    tagging.on(GetResourcesCommand).resolves(answer as never);
    const error = await failure();
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error.api).toBe('tag:GetResources');
    expect(error.message).toMatch(
      /^tag:GetResources: InvalidResponseError: invalid answer \(page 1\): ResourceTagMappingList: /,
    );
    expect(ecs.calls()).toHaveLength(0);
  });

  it('fails on page 3 without its list instead of publishing the first 200 of 250', async () => {
    tagging
      .on(GetResourcesCommand, { PaginationToken: undefined })
      .resolves(page(0, 100, 't2'))
      .on(GetResourcesCommand, { PaginationToken: 't2' })
      .resolves(page(100, 100, 't3'))
      .on(GetResourcesCommand, { PaginationToken: 't3' })
      .resolves({});
    const error = await failure();
    expect(error.message).toMatch(/invalid answer \(page 3\): ResourceTagMappingList/);
    expect(ecs.calls()).toHaveLength(0);
  });

  it('fails on an entry that is not an ECS task ARN', async () => {
    tagging
      .on(GetResourcesCommand)
      .resolves({ ResourceTagMappingList: [{ ResourceARN: 'arn:aws:ec2:us-east-1:1:x' }] });
    expect((await failure()).message).toMatch(/invalid answer \(page 1\): ResourceTagMappingList\.0\.ResourceARN/);
  });
});

describe('getTaskArns stops pagination loops', () => {
  it('fails when a page returns the token it was asked with', async () => {
    tagging.on(GetResourcesCommand).resolves(page(0, 1, 'same'));
    const error = await failure();
    expect(error.message).toMatch(
      /^tag:GetResources: InvalidResponseError: page 2 returned the PaginationToken page 1 returned/,
    );
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(2);
  });

  it('fails when tokens cycle', async () => {
    tagging
      .on(GetResourcesCommand, { PaginationToken: undefined })
      .resolves(page(0, 1, 'a'))
      .on(GetResourcesCommand, { PaginationToken: 'a' })
      .resolves(page(1, 1, 'b'))
      .on(GetResourcesCommand, { PaginationToken: 'b' })
      .resolves(page(2, 1, 'a'));
    expect((await failure()).message).toMatch(
      /page 3 returned the PaginationToken page 1 returned \(a pagination loop\)/,
    );
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(3);
  });

  it(`fails after ${GET_RESOURCES_MAX_PAGES} pages of endless empty pages with fresh tokens`, async () => {
    let next = 0;
    tagging
      .on(GetResourcesCommand)
      .callsFake(async () => ({ ResourceTagMappingList: [], PaginationToken: `t${++next}` }));
    const error = await failure();
    expect(error.message).toMatch(
      /^tag:GetResources: more than 100 pages \(10000 task ARNs\) match TASK_TAGS.*narrow TASK_TAGS/,
    );
    expect(tagging.commandCalls(GetResourcesCommand)).toHaveLength(GET_RESOURCES_MAX_PAGES);
  });

  it(`reads ${GET_RESOURCES_MAX_PAGES} full pages, the most it allows`, async () => {
    let next = 0;
    tagging.on(GetResourcesCommand).callsFake(async () => {
      next += 1;
      return page((next - 1) * 100, 100, next === GET_RESOURCES_MAX_PAGES ? '' : `t${next}`);
    });
    const scope = startRun();
    const arns = await getTaskArns(newClients().tagging, config.taskTags, scope).finally(scope.end);
    expect(arns).toHaveLength(GET_RESOURCES_MAX_PAGES * 100);
    expect(scope.calls).toEqual({ 'tag:GetResources': GET_RESOURCES_MAX_PAGES });
  });
});
