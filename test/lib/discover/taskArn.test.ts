import { clusterOfTask, groupByCluster } from '../../../lib/discover/index.js';
import { ConfigError } from '../../../lib/errors.js';

const arn = (cluster: string, id: string) => `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${id}`;
const oldArn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/${id}`;

describe('clusterOfTask', () => {
  it('reads the cluster from a new-format ARN', () => {
    expect(clusterOfTask(arn('shop-prod', 'abc'))).toBe('shop-prod');
  });
  it('finds no cluster in an old-format ARN', () => {
    expect(clusterOfTask(oldArn('abc'))).toBeUndefined();
  });
});

describe('groupByCluster', () => {
  it('groups ARNs by cluster', () => {
    const groups = groupByCluster([arn('a', '1'), arn('b', '2'), arn('a', '3')]);
    expect([...groups]).toEqual([
      ['a', [arn('a', '1'), arn('a', '3')]],
      ['b', [arn('b', '2')]],
    ]);
  });
  it('keeps only the configured cluster, old-format ARNs counting as its own', () => {
    const groups = groupByCluster([arn('a', '1'), arn('b', '2'), oldArn('3')], 'a');
    expect([...groups]).toEqual([['a', [arn('a', '1'), oldArn('3')]]]);
  });
  it('refuses to guess a cluster for old-format ARNs when ECS_CLUSTER is not set', () => {
    const run = () => groupByCluster([arn('a', '1'), oldArn('3'), oldArn('4')]);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(
      /2 tagged task\(s\) have an old-format ARN that names no cluster .*task\/3, .*task\/4\): set ECS_CLUSTER/,
    );
  });
});
