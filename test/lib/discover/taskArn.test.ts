import { clusterOfTask, groupByCluster } from '../../../lib/discover/index.js';

const arn = (cluster: string, id: string) => `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${id}`;
const oldArn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/${id}`;

describe('clusterOfTask', () => {
  it('reads the cluster from a new-format ARN', () => {
    expect(clusterOfTask(arn('shop-prod', 'abc'))).toBe('shop-prod');
  });
  it('gives old-format ARNs the fallback cluster, default when none is configured', () => {
    expect(clusterOfTask(oldArn('abc'), 'shop-prod')).toBe('shop-prod');
    expect(clusterOfTask(oldArn('abc'))).toBe('default');
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
});
