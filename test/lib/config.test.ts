import { checkClusterAccount, loadConfig } from '../../lib/config.js';
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
    ['PEERS_PARAMETER', { PEERS_PARAMETER: undefined }, /PEERS_PARAMETER or CLOUD_MAP_SERVICE_ID is required/],
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
    [{ PEERS_PARAMETER: '/a/b/c/d/e/f/g/h/i/j/k/l/m/n' }, /PEERS_PARAMETER may have at most 13 levels \(SSM allows 15; parts/],
    [{ ECS_CLUSTER: 'arn:aws:ecs:eu-west-1:123:cluster/x' }, /ECS_CLUSTER an ARN must look like/],
    [{ ECS_CLUSTER: 'bad name!' }, /ECS_CLUSTER a cluster name/],
  ])('rejects %j with an error naming the variable', (change, message) => {
    expect(() => loadConfig({ ...valid, ...change })).toThrow(ConfigError);
    expect(() => loadConfig({ ...valid, ...change })).toThrow(message);
  });

  it('rejects at cold start a cluster ARN of another Region than AWS_REGION', () => {
    const env = { ...valid, AWS_REGION: 'us-east-1', ECS_CLUSTER: 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop' };
    expect(() => loadConfig(env)).toThrow(
      /ECS_CLUSTER is the ARN of a cluster in Region eu-west-1, but the function runs in us-east-1 \(AWS_REGION\)/,
    );
    const same = loadConfig({ ...env, ECS_CLUSTER: 'arn:aws:ecs:us-east-1:123456789012:cluster/shop' });
    expect(same).toMatchObject({ cluster: 'shop', clusterAccount: '123456789012', region: 'us-east-1' });
  });

  it('rejects at the first invocation a cluster ARN of another account than the function', () => {
    const config = loadConfig({ ...valid, ECS_CLUSTER: 'arn:aws:ecs:us-east-1:111111111111:cluster/shop' });
    expect(() => checkClusterAccount(config, '222222222222')).toThrow(
      /ECS_CLUSTER is the ARN of a cluster in account 111111111111, but the function runs in account 222222222222/,
    );
    expect(() => checkClusterAccount(config, '111111111111')).not.toThrow();
    expect(() => checkClusterAccount(loadConfig({ ...valid, ECS_CLUSTER: 'shop' }), '222222222222')).not.toThrow();
  });

  it.each([
    ['a control character in a key', '{"app\\u0007":"shop"}', /TASK_TAGS \(at "app\\u0007"\) a tag key may hold only/],
    ['a newline in a value', '{"app":"sh\\nop"}', /TASK_TAGS \(at app\) a tag value may hold only/],
    ['a control character in a listed value', '{"app":["ok","\\u0000"]}', /TASK_TAGS \(at app\.1\) a tag value/],
  ])('rejects a tag with %s', (_name, tags, message) => {
    expect(() => loadConfig({ ...valid, TASK_TAGS: tags })).toThrow(message);
  });

  it('accepts the characters AWS allows in tags, unicode letters and spaces included', () => {
    const tags = '{"aws:cloudformation:stack-name":"shop prod","équipe":"a.b_c:d/e=f+g-h@i"}';
    expect(Object.keys(loadConfig({ ...valid, TASK_TAGS: tags }).taskTags)).toHaveLength(2);
  });

  it('counts the SSM name limit of 1011 characters on the whole ARN of the last part (NAME/part/9)', () => {
    const prefix = 'arn:aws:ssm:us-east-1:123456789012:parameter'.length; // 44
    const longest = `/${'a'.repeat(1011 - prefix - 1 - '/part/9'.length)}`;
    expect(loadConfig({ ...valid, AWS_REGION: 'us-east-1', PEERS_PARAMETER: longest }).peersParameter).toBe(longest);
    expect(() => loadConfig({ ...valid, AWS_REGION: 'us-east-1', PEERS_PARAMETER: `${longest}a` })).toThrow(
      /PEERS_PARAMETER is too long: SSM allows 1011 characters for the whole parameter ARN .* this one has 1012/,
    );
  });

  it('lists every bad variable in one error', () => {
    expect(() => loadConfig({})).toThrow(/TASK_TAGS is required; NODE_BASENAME is required/);
  });

  it('publishes to Cloud Map alone, to SSM alone, or to both, as the variables say', () => {
    const cloudMapOnly = { ...valid, PEERS_PARAMETER: undefined, CLOUD_MAP_SERVICE_ID: 'srv-e4anhexample0004' };
    expect(loadConfig(cloudMapOnly)).toEqual({
      cloudMapServiceId: 'srv-e4anhexample0004',
      taskTags: { app: ['shop'], env: ['prod', 'canary'] },
      nodeBasename: 'shop',
    });
    expect(loadConfig({ ...valid, CLOUD_MAP_SERVICE_ID: '' }).cloudMapServiceId).toBeUndefined();
    const both = loadConfig({ ...valid, CLOUD_MAP_SERVICE_ID: 'srv-abc123' });
    expect([both.peersParameter, both.cloudMapServiceId]).toEqual(['/ecs-peers/shop', 'srv-abc123']);
  });

  it('names both store variables when neither is set, and what each one is for', () => {
    expect(() => loadConfig({ ...valid, PEERS_PARAMETER: '' })).toThrow(
      /PEERS_PARAMETER or CLOUD_MAP_SERVICE_ID is required: set PEERS_PARAMETER \(an SSM parameter\), CLOUD_MAP_SERVICE_ID \(a Cloud Map service/,
    );
  });

  it.each(['ns-abc', 'srv-ABC', 'srv-', 'arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abc'])(
    'rejects the Cloud Map service id %j, naming CLOUD_MAP_SERVICE_ID',
    (id) => {
      expect(() => loadConfig({ ...valid, CLOUD_MAP_SERVICE_ID: id })).toThrow(
        /CLOUD_MAP_SERVICE_ID must be a Cloud Map service id, e.g. srv-/,
      );
    },
  );
});
