import { loadConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

const valid = {
  PEERS_PARAMETER: '/ecs-peers/shop',
  TASK_TAGS: '{"app":"shop","env":["prod","canary"]}',
  NODE_BASENAME: 'shop',
};

describe('loadConfig', () => {
  it('reads a complete environment, turning single tag values into lists', () => {
    expect(loadConfig({ ...valid, ECS_CLUSTER: 'shop-prod' })).toEqual({
      peersParameter: '/ecs-peers/shop',
      taskTags: { app: ['shop'], env: ['prod', 'canary'] },
      cluster: 'shop-prod',
      nodeBasename: 'shop',
    });
  });

  it('accepts a cluster ARN and keeps its name', () => {
    const config = loadConfig({ ...valid, ECS_CLUSTER: 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop-prod' });
    expect(config.cluster).toBe('shop-prod');
  });

  it('accepts a plain parameter name without a path', () => {
    expect(loadConfig({ ...valid, PEERS_PARAMETER: 'shop-peers' }).peersParameter).toBe('shop-peers');
  });

  it('treats an empty or missing ECS_CLUSTER as every cluster', () => {
    expect(loadConfig({ ...valid, ECS_CLUSTER: '' }).cluster).toBeUndefined();
    expect(loadConfig(valid).cluster).toBeUndefined();
  });

  it.each([
    ['PEERS_PARAMETER', { PEERS_PARAMETER: undefined }, /PEERS_PARAMETER is required/],
    ['TASK_TAGS', { TASK_TAGS: undefined }, /TASK_TAGS is required/],
    ['NODE_BASENAME', { NODE_BASENAME: undefined }, /NODE_BASENAME is required/],
  ])('names the missing variable %s', (_name, change, message) => {
    expect(() => loadConfig({ ...valid, ...change })).toThrow(message);
  });

  it.each([
    [{ TASK_TAGS: 'app=shop' }, /TASK_TAGS must be JSON/],
    [{ TASK_TAGS: '{}' }, /TASK_TAGS must name at least one tag/],
    [{ TASK_TAGS: '{"app":5}' }, /TASK_TAGS \(at app\)/],
    [{ TASK_TAGS: '["app"]' }, /TASK_TAGS/],
    [{ NODE_BASENAME: 'shop app' }, /NODE_BASENAME 1-64 letters/],
    [{ NODE_BASENAME: 'a'.repeat(65) }, /NODE_BASENAME/],
    [{ PEERS_PARAMETER: 'has space' }, /PEERS_PARAMETER only letters/],
    [{ PEERS_PARAMETER: 'ecs-peers/shop' }, /PEERS_PARAMETER a name with \/ must start with \//],
    [{ PEERS_PARAMETER: '/ecs-peers/' }, /PEERS_PARAMETER must not contain \/\/ or end with \//],
    [{ PEERS_PARAMETER: '/aws/peers' }, /PEERS_PARAMETER must not begin with aws or ssm/],
    [{ PEERS_PARAMETER: 'SSM-peers' }, /PEERS_PARAMETER must not begin with aws or ssm/],
    [{ PEERS_PARAMETER: `/${'a'.repeat(1011)}` }, /PEERS_PARAMETER/],
    [{ PEERS_PARAMETER: '/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p' }, /PEERS_PARAMETER may have at most 15 levels/],
    [{ ECS_CLUSTER: 'arn:aws:ecs:eu-west-1:123:cluster/x' }, /ECS_CLUSTER an ARN must look like/],
    [{ ECS_CLUSTER: 'bad name!' }, /ECS_CLUSTER a cluster name/],
  ])('rejects %j with an error naming the variable', (change, message) => {
    expect(() => loadConfig({ ...valid, ...change })).toThrow(ConfigError);
    expect(() => loadConfig({ ...valid, ...change })).toThrow(message);
  });

  it('lists every bad variable in one error', () => {
    expect(() => loadConfig({})).toThrow(
      /PEERS_PARAMETER is required; TASK_TAGS is required; NODE_BASENAME is required/,
    );
  });
});
