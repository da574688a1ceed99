/**
 * Each PeerStore value of template.yaml, proven with the IAM policy simulator (@cloud-copilot/iam-simulate) as
 * test/template/policy.test.ts proves the role: only the chosen store's resources exist, the reconciler may call
 * only that store (Cloud Map: register, deregister and list instances of its one service), the reader policy
 * allows only that store's reads (Cloud Map: DiscoverInstances and DiscoverInstancesRevision of that namespace
 * and service), and the function's environment passes the reconciler's config validation.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { loadConfig } from '../../lib/config.js';
import { loadTemplate, resolveStack, TEST_STACK } from '../../testbed/cfnTemplate.js';

interface Statement {
  Action: string | string[];
  Resource: string | string[];
}
type Policy = { Version: string; Statement: Statement[] };

const template = loadTemplate();
const { accountId, region } = TEST_STACK;
const STACK = TEST_STACK.stackName;
const EXISTING_NAMESPACE = 'ns-existing0000001';

const stackFor = (PeerStore: string, CloudMapNamespaceId = '') =>
  resolveStack(template, { ...TEST_STACK, parameters: { ...TEST_STACK.parameters, PeerStore, CloudMapNamespaceId } });

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const rolePolicies = (stack: ReturnType<typeof stackFor>) =>
  stack
    .properties<{ Policies: { PolicyName: string; PolicyDocument: Policy }[] }>('ReconcileRole')
    .Policies.map(({ PolicyName, PolicyDocument }) => ({ name: PolicyName, policy: PolicyDocument }));
const readerPolicies = (stack: ReturnType<typeof stackFor>) => [
  { name: 'reader', policy: stack.properties<{ PolicyDocument: Policy }>('PeersReaderPolicy').PolicyDocument },
];
const actionsOf = (policies: { policy: Policy }[]) =>
  policies.flatMap(({ policy }) => policy.Statement.flatMap((statement) => list(statement.Action)));

const simulate = async (
  policies: { name: string; policy: unknown }[],
  action: string,
  resource: string,
  contextVariables: Record<string, string> = {},
) => {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${accountId}:role/caller`,
        action,
        resource: { resource, accountId },
        contextVariables,
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error')
    throw new Error(`the simulator rejected ${action}: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
};

const serviceArn = (id: string) => `arn:aws:servicediscovery:${region}:${accountId}:service/${id}`;
const namespaceArn = (id: string) => `arn:aws:servicediscovery:${region}:${accountId}:namespace/${id}`;
const PARAMETER_ARN = `arn:aws:ssm:${region}:${accountId}:parameter/ecs-peers/shop`;
const OTHER_SERVICE = serviceArn('srv-someoneelse0001');
const WRITES = [
  'servicediscovery:ListInstances',
  'servicediscovery:RegisterInstance',
  'servicediscovery:DeregisterInstance',
];
// The v2 format's parts are read with GetParameters (docs/peer-set-format.md).
const SSM_READS = ['ssm:GetParameter', 'ssm:GetParameters'];
const READS = ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'];

describe.each([
  ['ssm', { ssm: true, cloudMap: false }],
  ['cloudmap', { ssm: false, cloudMap: true }],
  ['both', { ssm: true, cloudMap: true }],
])('PeerStore %s', (peerStore, uses) => {
  const stack = stackFor(peerStore);
  const role = rolePolicies(stack);
  const reader = readerPolicies(stack);
  const env = stack.properties('ReconcileFunction').Environment.Variables as Record<string, string>;

  it('creates only the chosen store: the parameter, or the namespace and service', () => {
    expect(stack.condition('UseSsm')).toBe(uses.ssm);
    expect(stack.condition('UseCloudMap')).toBe(uses.cloudMap);
    expect(template.Resources.PeersParameter!.Condition).toBe('UseSsm');
    expect(template.Resources.PeersService!.Condition).toBe('UseCloudMap');
    expect(template.Resources.PeersNamespace!.Condition).toBe('CreateNamespace');
    expect(stack.condition('CreateNamespace')).toBe(uses.cloudMap);
    expect(stack.properties('PeersService')).toMatchObject({ Type: 'HTTP', Name: STACK });
  });

  it('sets an environment the reconciler accepts, naming the chosen stores only', () => {
    const config = loadConfig(env);
    expect(config.peersParameter).toBe(uses.ssm ? '/ecs-peers/shop' : undefined);
    expect(config.cloudMapServiceId).toBe(uses.cloudMap ? 'srv-peersservice' : undefined);
  });

  it('lets the reconciler call the chosen store only', async () => {
    for (const action of ['ssm:GetParameter', 'ssm:PutParameter']) {
      expect([action, await simulate(role, action, PARAMETER_ARN)]).toEqual([
        action,
        uses.ssm ? 'Allowed' : 'ImplicitlyDenied',
      ]);
    }
    for (const action of WRITES) {
      expect([action, await simulate(role, action, serviceArn('srv-peersservice'))]).toEqual([
        action,
        uses.cloudMap ? 'Allowed' : 'ImplicitlyDenied',
      ]);
    }
    expect(
      actionsOf(role)
        .filter((action) => action.startsWith('servicediscovery:'))
        .sort(),
    ).toEqual(uses.cloudMap ? [...WRITES].sort() : []);
  });

  it('never lets the reconciler touch another service, read like a node, or manage Cloud Map', async () => {
    for (const action of WRITES) expect(await simulate(role, action, OTHER_SERVICE)).not.toBe('Allowed');
    for (const [action, resource] of [
      ['servicediscovery:DiscoverInstances', serviceArn('srv-peersservice')],
      ['servicediscovery:GetInstance', serviceArn('srv-peersservice')],
      ['servicediscovery:DeleteService', serviceArn('srv-peersservice')],
      ['servicediscovery:UpdateService', serviceArn('srv-peersservice')],
      ['servicediscovery:CreateService', namespaceArn('ns-peersnamespace')],
      ['servicediscovery:DeleteNamespace', namespaceArn('ns-peersnamespace')],
    ] as const) {
      expect([action, await simulate(role, action, resource)]).toEqual([action, 'ImplicitlyDenied']);
    }
  });

  it("gives the nodes' reader policy the chosen store's reads only", async () => {
    expect(await simulate(reader, 'ssm:GetParameter', PARAMETER_ARN)).toBe(uses.ssm ? 'Allowed' : 'ImplicitlyDenied');
    const names = { 'servicediscovery:NamespaceName': STACK, 'servicediscovery:ServiceName': STACK };
    for (const action of READS) {
      for (const resource of [namespaceArn('ns-peersnamespace'), serviceArn('srv-peersservice')]) {
        expect([action, resource, await simulate(reader, action, resource, names)]).toEqual([
          action,
          resource,
          uses.cloudMap ? 'Allowed' : 'ImplicitlyDenied',
        ]);
      }
    }
    expect(actionsOf(reader).sort()).toEqual([...(uses.ssm ? SSM_READS : []), ...(uses.cloudMap ? READS : [])].sort());
  });

  it('denies the reader other namespaces and services, and every write', async () => {
    const names = { 'servicediscovery:NamespaceName': STACK, 'servicediscovery:ServiceName': STACK };
    const denied: [string, string, Record<string, string>][] = [
      [
        'servicediscovery:DiscoverInstances',
        serviceArn('srv-peersservice'),
        { ...names, 'servicediscovery:ServiceName': 'billing' },
      ],
      [
        'servicediscovery:DiscoverInstances',
        serviceArn('srv-peersservice'),
        { ...names, 'servicediscovery:NamespaceName': 'other' },
      ],
      ['servicediscovery:DiscoverInstances', OTHER_SERVICE, names],
      ['servicediscovery:DiscoverInstancesRevision', namespaceArn('ns-other000000001'), names],
      ['servicediscovery:RegisterInstance', serviceArn('srv-peersservice'), {}],
      ['servicediscovery:DeregisterInstance', serviceArn('srv-peersservice'), {}],
      ['servicediscovery:ListInstances', serviceArn('srv-peersservice'), {}],
      ['servicediscovery:GetInstance', serviceArn('srv-peersservice'), {}],
      ['ssm:PutParameter', PARAMETER_ARN, {}],
    ];
    for (const [action, resource, context] of denied) {
      expect([action, resource, await simulate(reader, action, resource, context)]).toEqual([
        action,
        resource,
        'ImplicitlyDenied',
      ]);
    }
  });

  it("outputs what the nodes need: the parameter name, or the namespace's and service's names", () => {
    const outputs = Object.entries(template.Outputs!)
      .filter(([, output]) => output.Condition === undefined || stack.condition(output.Condition))
      .map(([name]) => name);
    expect(outputs.includes('PeersParameterName')).toBe(uses.ssm);
    expect(outputs.includes('CloudMapServiceName')).toBe(uses.cloudMap);
    expect(outputs.includes('CloudMapNamespaceName')).toBe(uses.cloudMap);
    expect(outputs).toContain('PeersReaderPolicyArn');
    if (uses.cloudMap) {
      expect(stack.resolve(template.Outputs!.CloudMapServiceId!.Value)).toBe('srv-peersservice');
      expect(stack.resolve(template.Outputs!.CloudMapNamespaceName!.Value)).toBe(STACK);
    }
  });
});

describe('PeerStore cloudmap in an existing namespace (CloudMapNamespaceId)', () => {
  const stack = stackFor('cloudmap', EXISTING_NAMESPACE);
  const reader = readerPolicies(stack);

  it('creates the service in that namespace, and no namespace of its own', () => {
    expect(stack.condition('CreateNamespace')).toBe(false);
    expect(stack.properties('PeersService').NamespaceId).toBe(EXISTING_NAMESPACE);
  });

  it("scopes the reader to that namespace's ARN and the service's name (the namespace's name is not known here)", async () => {
    const service = { 'servicediscovery:ServiceName': STACK, 'servicediscovery:NamespaceName': 'theirs' };
    expect(
      await simulate(reader, 'servicediscovery:DiscoverInstances', namespaceArn(EXISTING_NAMESPACE), service),
    ).toBe('Allowed');
    expect(
      await simulate(reader, 'servicediscovery:DiscoverInstances', namespaceArn('ns-peersnamespace'), service),
    ).not.toBe('Allowed');
    expect(
      await simulate(reader, 'servicediscovery:DiscoverInstances', namespaceArn(EXISTING_NAMESPACE), {
        ...service,
        'servicediscovery:ServiceName': 'billing',
      }),
    ).not.toBe('Allowed');
  });
});
