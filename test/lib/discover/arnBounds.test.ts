/**
 * Task ARNs come from AWS answers and end up in thrown messages (Lambda's "Invoke Error" log line, the DLQ):
 * an answer with absurdly long ARNs is refused, and a message lists a few ARNs, each cut to size, and says how
 * many more there are.
 */
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { TASK_ARN_MAX_CHARS } from '../../../lib/constants.js';
import { getTaskArns, groupByCluster, peersOf } from '../../../lib/discover/index.js';
import { ConfigError, DiscoveryError, TaskAddressError } from '../../../lib/errors.js';
import { startRun } from '../../../lib/runScope.js';
import { newClients } from '../../support/mockAws.js';
import { config, resetStubs, tagging } from '../../support/stubAws.js';

beforeEach(resetStubs);

const LONG = 'x'.repeat(100_000);
const thrown = (run: () => unknown): Error => {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('nothing was thrown');
};

describe('task ARNs in messages', () => {
  it('a TaskAddressError lists at most 5 ARNs, each cut to 200 characters, and how many more', () => {
    const tasks = Array.from({ length: 50 }, (_, index) => ({
      taskArn: `arn:aws:ecs:us-east-1:123456789012:task/c/${index}${LONG}`,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
    }));
    const error = thrown(() => peersOf(tasks));
    expect(error).toBeInstanceOf(TaskAddressError);
    expect(error.message).toMatch(/^50 running task\(s\) have no usable private IPv4 address: /);
    expect(error.message).toMatch(/ and 45 more\. /);
    expect(error.message).toMatch(/\(99\d{3} more characters\)/);
    expect(error.message.length).toBeLessThan(3_000);
  });

  it('a ConfigError about old-format ARNs lists at most 5, each cut to 200 characters, and how many more', () => {
    const arns = Array.from({ length: 30 }, (_, index) => `arn:aws:ecs:us-east-1:123456789012:task/${index}${LONG}`);
    const error = thrown(() => groupByCluster(arns));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^(invalid configuration: )?30 tagged task\(s\) have an old-format ARN/);
    expect(error.message).toMatch(/ and 25 more\): set ECS_CLUSTER/);
    expect(error.message.length).toBeLessThan(3_000);
  });
});

describe('getTaskArns', () => {
  it(`refuses a task ARN longer than ${TASK_ARN_MAX_CHARS} characters as a malformed answer`, async () => {
    tagging.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [{ ResourceARN: `arn:aws:ecs:us-east-1:123456789012:task/c/${LONG}` }],
    });
    const scope = startRun({ remainingMs: 60_000 });
    const error = await getTaskArns(newClients().tagging, config.taskTags, scope)
      .finally(scope.end)
      .catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as Error).message).toMatch(/^tag:GetResources: .*InvalidResponseError/);
    expect((error as Error).message.length).toBeLessThan(3_000);
  });

  it(`accepts a task ARN of ${TASK_ARN_MAX_CHARS} characters`, async () => {
    const prefix = 'arn:aws:ecs:us-east-1:123456789012:task/c/';
    const arn = prefix + 'a'.repeat(TASK_ARN_MAX_CHARS - prefix.length);
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: arn }] });
    const scope = startRun({ remainingMs: 60_000 });
    await expect(getTaskArns(newClients().tagging, config.taskTags, scope).finally(scope.end)).resolves.toEqual([arn]);
  });
});
