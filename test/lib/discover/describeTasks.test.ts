/** DescribeTasks answers the run must not trust: tasks not asked for, missing lists and fields. */
import { DescribeTasksCommand, type DescribeTasksCommandInput } from '@aws-sdk/client-ecs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { DiscoveryError } from '../../../lib/errors.js';
import { reconcile } from '../../../lib/reconcile.js';
import { describedTask, newClients, taskArn, taskIp } from '../../support/mockAws.js';
import { config, ecs, estate, resetStubs, scheduled, servePages, ssm } from '../../support/stubAws.js';

beforeEach(() => {
  resetStubs();
  servePages([...estate(3).keys()], [3]);
});

const failure = async () => {
  const error = await reconcile(newClients(), config, scheduled).catch((caught: unknown) => caught as Error);
  expect(error).toBeInstanceOf(DiscoveryError);
  expect((error as DiscoveryError).api).toBe('ecs:DescribeTasks');
  expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  return error as DiscoveryError;
};

describe('describeTasks refuses answers it cannot trust', () => {
  it('fails when the answer holds a task it did not ask for, publishing nothing', async () => {
    ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => ({
      tasks: [...(input.tasks ?? []), taskArn('prod', 77)].map((arn, index) => describedTask(arn, taskIp(index))),
      failures: [],
    }));
    expect((await failure()).message).toMatch(
      /^ecs:DescribeTasks: cluster prod: InvalidResponseError: invalid answer: task .*0+4d was not asked for/,
    );
  });

  it('fails on a MISSING failure for an ARN it did not ask for', async () => {
    ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => ({
      tasks: (input.tasks ?? []).map((arn, index) => describedTask(arn, taskIp(index))),
      failures: [{ arn: taskArn('other', 1), reason: 'MISSING' }],
    }));
    expect((await failure()).message).toMatch(/a MISSING failure for .*task\/other\/.*, which was not asked for/);
  });

  it.each([
    ['an empty body ({} to the SDK)', {}],
    ['no tasks list', { failures: [] }],
  ])('fails on %s', async (_name, answer) => {
    ecs.on(DescribeTasksCommand).resolves(answer);
    expect((await failure()).message).toMatch(
      /cluster prod: InvalidResponseError: invalid answer \(cluster prod\): tasks: /,
    );
  });

  it('fails on a task without lastStatus rather than skipping it as not running', async () => {
    ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => ({
      tasks: (input.tasks ?? []).map((arn, index) => ({ ...describedTask(arn, taskIp(index)), lastStatus: undefined })),
    }));
    expect((await failure()).message).toMatch(/invalid answer \(cluster prod\): tasks\.0\.lastStatus: /);
  });
});
