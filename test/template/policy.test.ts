/**
 * Least privilege, proven: the IAM policies of template.yaml, resolved for a test stack, evaluated by an IAM
 * policy simulator (@cloud-copilot/iam-simulate) for every AWS call the reconciler's code makes, for what the
 * Lambda platform does with the role, and for calls that must stay denied.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isWildcardOnlyAction, runSimulation } from '@cloud-copilot/iam-simulate';
import { loadTemplate, resolveStack, ROOT, TEST_STACK } from '../../testbed/cfnTemplate.js';

// PeerStore both: the role holds every call the code makes (test/template/peerStore.test.ts proves each store alone).
const stack = resolveStack(loadTemplate(), {
  ...TEST_STACK,
  parameters: { ...TEST_STACK.parameters, PeerStore: 'both' },
});
const { accountId, region } = TEST_STACK;

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

const role = stack.properties<{
  Policies: { PolicyName: string; PolicyDocument: PolicyDocument }[];
  ManagedPolicyArns?: string[];
}>('ReconcileRole');
const rolePolicies = role.Policies.map(({ PolicyName, PolicyDocument }) => ({
  name: PolicyName,
  policy: PolicyDocument,
}));
const readerPolicy = stack.properties<{ PolicyDocument: PolicyDocument }>('PeersReaderPolicy').PolicyDocument;
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

// ------------------------------------------------------------------ the test stack's names
const CLUSTER = 'shop-prod';
const clusterArn = (name: string) => `arn:aws:ecs:${region}:${accountId}:cluster/${name}`;
const taskArn = (cluster: string) =>
  `arn:aws:ecs:${region}:${accountId}:task/${cluster}/0123456789abcdef0123456789abcdef`;
const parameterArn = (name: string) => `arn:aws:ssm:${region}:${accountId}:parameter/${name.replace(/^\//, '')}`;
const PARAMETER_ARN = parameterArn('/ecs-peers/shop');
const LOG_GROUP = '/aws/lambda/shop-peers-reconcile';
const logStreamArn = (group: string) =>
  `arn:aws:logs:${region}:${accountId}:log-group:${group}:log-stream:2026/11/22/[$LATEST]0123abcd`;
const TASK_EVENTS_QUEUE = stack.arn('TaskEventsQueue');
const DEAD_LETTER_QUEUE = stack.arn('DeadLetterQueue');

type Context = Record<string, string | string[]>;
interface Call {
  resource: string;
  context?: Context;
}

/** How the reconciler's code calls each AWS action: the resource and request context AWS authorizes. */
const CODE_CALLS: Record<string, Call> = {
  'tag:GetResources': { resource: '*' },
  'ecs:DescribeTasks': { resource: taskArn(CLUSTER), context: { 'ecs:cluster': clusterArn(CLUSTER) } },
  'ecs:ListTasks': {
    resource: `arn:aws:ecs:${region}:${accountId}:container-instance/${CLUSTER}/0123`,
    context: { 'ecs:cluster': clusterArn(CLUSTER) },
  },
  'ssm:GetParameter': { resource: PARAMETER_ARN },
  'ssm:GetParameters': { resource: parameterArn('/ecs-peers/shop/part/0') },
  'ssm:PutParameter': { resource: PARAMETER_ARN },
  'servicediscovery:ListInstances': { resource: stack.arn('PeersService') },
  'servicediscovery:RegisterInstance': { resource: stack.arn('PeersService') },
  'servicediscovery:DeregisterInstance': { resource: stack.arn('PeersService') },
};

/** What Lambda itself does with the function's role: logging, the SQS event source, the failure destination. */
const PLATFORM_CALLS: Record<string, Call> = {
  'logs:CreateLogStream': { resource: logStreamArn(LOG_GROUP) },
  'logs:PutLogEvents': { resource: logStreamArn(LOG_GROUP) },
  'sqs:ReceiveMessage': { resource: TASK_EVENTS_QUEUE },
  'sqs:DeleteMessage': { resource: TASK_EVENTS_QUEUE },
  'sqs:GetQueueAttributes': { resource: TASK_EVENTS_QUEUE },
  'sqs:SendMessage': { resource: DEAD_LETTER_QUEUE },
};

/** Calls the role must not be able to make. */
const DENIED_CALLS: [string, string, Call][] = [
  ['write another parameter', 'ssm:PutParameter', { resource: parameterArn('/ecs-peers/other') }],
  ['write a parameter below this one', 'ssm:PutParameter', { resource: parameterArn('/ecs-peers/shop/child') }],
  ['write a parameter whose name extends this one', 'ssm:PutParameter', { resource: parameterArn('/ecs-peers/shop2') }],
  ['read another parameter', 'ssm:GetParameter', { resource: parameterArn('/ecs-peers/other') }],
  ['delete the parameter', 'ssm:DeleteParameter', { resource: PARAMETER_ARN }],
  ['read parameters by path', 'ssm:GetParametersByPath', { resource: parameterArn('/ecs-peers') }],
  ['read several parameters of another name', 'ssm:GetParameters', { resource: parameterArn('/ecs-peers/other') }],
  ['write a part of another parameter', 'ssm:PutParameter', { resource: parameterArn('/ecs-peers/other/part/0') }],
  ['write beside the parts', 'ssm:PutParameter', { resource: parameterArn('/ecs-peers/shop/partx/0') }],
  ['write the parts folder itself', 'ssm:PutParameter', { resource: parameterArn('/ecs-peers/shop/part') }],
  ['delete a part', 'ssm:DeleteParameter', { resource: parameterArn('/ecs-peers/shop/part/0') }],
  ['label parameter versions', 'ssm:LabelParameterVersion', { resource: PARAMETER_ARN }],
  [
    'describe tasks of another cluster',
    'ecs:DescribeTasks',
    { resource: taskArn('other'), context: { 'ecs:cluster': clusterArn('other') } },
  ],
  [
    'describe a task ARN of this cluster name asked in another cluster',
    'ecs:DescribeTasks',
    { resource: taskArn(CLUSTER), context: { 'ecs:cluster': clusterArn('other') } },
  ],
  [
    'describe tasks of a same-named cluster in another account',
    'ecs:DescribeTasks',
    {
      resource: `arn:aws:ecs:${region}:210987654321:task/${CLUSTER}/0123`,
      context: { 'ecs:cluster': `arn:aws:ecs:${region}:210987654321:cluster/${CLUSTER}` },
    },
  ],
  ['stop a task', 'ecs:StopTask', { resource: taskArn(CLUSTER), context: { 'ecs:cluster': clusterArn(CLUSTER) } }],
  [
    'run a task',
    'ecs:RunTask',
    {
      resource: `arn:aws:ecs:${region}:${accountId}:task-definition/shop:1`,
      context: { 'ecs:cluster': clusterArn(CLUSTER) },
    },
  ],
  [
    'list tasks of another cluster',
    'ecs:ListTasks',
    {
      resource: `arn:aws:ecs:${region}:${accountId}:container-instance/other/0123`,
      context: { 'ecs:cluster': clusterArn('other') },
    },
  ],
  [
    'list tasks of this cluster name asked in another cluster',
    'ecs:ListTasks',
    {
      resource: `arn:aws:ecs:${region}:${accountId}:container-instance/${CLUSTER}/0123`,
      context: { 'ecs:cluster': clusterArn('other') },
    },
  ],
  ['tag resources', 'tag:TagResources', { resource: '*' }],
  [
    'create a log group',
    'logs:CreateLogGroup',
    { resource: `arn:aws:logs:${region}:${accountId}:log-group:/aws/lambda/other` },
  ],
  ['write to another log group', 'logs:PutLogEvents', { resource: logStreamArn('/aws/lambda/other') }],
  ['send to the task events queue', 'sqs:SendMessage', { resource: TASK_EVENTS_QUEUE }],
  ['receive from the dead-letter queue', 'sqs:ReceiveMessage', { resource: DEAD_LETTER_QUEUE }],
  ['purge the dead-letter queue', 'sqs:PurgeQueue', { resource: DEAD_LETTER_QUEUE }],
  ['receive from another queue', 'sqs:ReceiveMessage', { resource: `arn:aws:sqs:${region}:${accountId}:other` }],
  ['pass a role', 'iam:PassRole', { resource: `arn:aws:iam::${accountId}:role/admin` }],
  ['create a user', 'iam:CreateUser', { resource: `arn:aws:iam::${accountId}:user/intruder` }],
  ['attach a policy to its own role', 'iam:AttachRolePolicy', { resource: stack.arn('ReconcileRole') }],
  ['invoke a function', 'lambda:InvokeFunction', { resource: stack.arn('ReconcileFunction') }],
];

const simulate = async (
  policies: { name: string; policy: unknown }[],
  action: string,
  { resource, context = {} }: Call,
) => {
  const result = await runSimulation(
    {
      request: {
        principal: stack.arn('ReconcileRole'),
        action,
        resource: { resource, accountId },
        contextVariables: context,
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`the simulator rejected ${action} on ${resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
};

// ------------------------------------------------------------------ the actions the code calls, from the code
/** IAM service prefix of each AWS SDK client package the reconciler may import. */
const IAM_PREFIX: Record<string, string> = {
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-resource-groups-tagging-api': 'tag',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-servicediscovery': 'servicediscovery',
};

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });

/**
 * Every `XxxCommand` and `paginateXxx` imported from an AWS SDK client in lib/ and functions/, as IAM actions.
 * A new call in the code makes the test below fail until the template's policy and CODE_CALLS cover it.
 */
const actionsInCode = (): Map<string, string[]> => {
  const actions = new Map<string, string[]>();
  const importPattern = /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g;
  for (const file of [...sourceFiles(path.join(ROOT, 'lib')), ...sourceFiles(path.join(ROOT, 'functions'))]) {
    const text = readFileSync(file, 'utf8');
    for (const [, names = '', pkg = ''] of text.matchAll(importPattern)) {
      const prefix = IAM_PREFIX[pkg];
      for (const raw of names.split(',')) {
        const name = raw.trim();
        if (name.startsWith('type ')) continue;
        const operation = /^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1];
        if (!operation) continue;
        if (!prefix)
          throw new Error(`${path.relative(ROOT, file)} imports ${name} from ${pkg}: add its IAM prefix to IAM_PREFIX`);
        const action = `${prefix}:${operation}`;
        actions.set(action, [...(actions.get(action) ?? []), path.relative(ROOT, file)]);
      }
    }
  }
  return actions;
};

const codeActions = actionsInCode();
const roleStatements = rolePolicies.flatMap(({ policy }) => (policy as PolicyDocument).Statement);
const roleActions = new Set(roleStatements.flatMap((statement) => list(statement.Action)));

describe('the reconciler role (template.yaml ReconcileRole)', () => {
  it('finds the AWS calls in the code: tagging, ECS, SSM and Cloud Map', () => {
    expect([...codeActions.keys()].sort()).toEqual([
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'servicediscovery:DeregisterInstance',
      'servicediscovery:ListInstances',
      'servicediscovery:RegisterInstance',
      'ssm:GetParameter',
      'ssm:GetParameters',
      'ssm:PutParameter',
      'tag:GetResources',
    ]);
  });

  it('knows how every AWS call in the code is authorized (a new call needs a policy statement and a CODE_CALLS entry)', () => {
    const unknown = [...codeActions]
      .filter(([action]) => !(action in CODE_CALLS))
      .map(([action, files]) => `${action} (${files.join(', ')})`);
    expect(unknown).toEqual([]);
  });

  it.each(Object.entries(CODE_CALLS))('allows the code to call %s', async (action, call) => {
    await expect(simulate(rolePolicies, action, call)).resolves.toBe('Allowed');
  });

  it.each([
    ['ssm:PutParameter', '/ecs-peers/shop/part/0'],
    ['ssm:PutParameter', '/ecs-peers/shop/part/9'],
    ['ssm:GetParameter', '/ecs-peers/shop/part/3'],
    ['ssm:GetParameters', '/ecs-peers/shop'],
  ])('allows %s on the v2 form %s', async (action, name) => {
    await expect(simulate(rolePolicies, action, { resource: parameterArn(name) })).resolves.toBe('Allowed');
  });

  it.each(Object.entries(PLATFORM_CALLS))('allows Lambda to call %s for the function', async (action, call) => {
    await expect(simulate(rolePolicies, action, call)).resolves.toBe('Allowed');
  });

  it.each(DENIED_CALLS)('denies: %s (%s)', async (_title, action, call) => {
    await expect(simulate(rolePolicies, action, call)).resolves.not.toBe('Allowed');
  });

  it('grants exactly the code calls plus the platform calls, and no wildcard action', () => {
    expect([...roleActions].sort()).toEqual([...codeActions.keys(), ...Object.keys(PLATFORM_CALLS)].sort());
    expect([...roleActions].filter((action) => action.includes('*'))).toEqual([]);
    expect(roleStatements.map((statement) => statement.Effect)).toEqual(roleStatements.map(() => 'Allow'));
  });

  it('uses Resource "*" only for actions that have no resource-level permissions', async () => {
    for (const statement of roleStatements.filter((candidate) =>
      list(candidate.Resource).some((resource) => resource.includes('*') && !resource.startsWith('arn:')),
    )) {
      for (const action of list(statement.Action)) {
        const [service = '', operation = ''] = action.split(':');
        expect({ action, wildcardOnly: await isWildcardOnlyAction(service, operation) }).toEqual({
          action,
          wildcardOnly: true,
        });
      }
    }
  });

  it('is the only permission source: no managed policies (AWSLambdaBasicExecutionRole allows logs on *), no SAM policies', () => {
    expect(role.ManagedPolicyArns).toBeUndefined();
    const fn = stack.template.Resources.ReconcileFunction!.Properties!;
    expect(fn.Policies).toBeUndefined();
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['ReconcileRole', 'Arn'] });
  });

  it('scopes the parameter statement to exactly NAME and NAME/part/*, names starting with / without a double slash', () => {
    const statement = roleStatements.find((candidate) => list(candidate.Action).includes('ssm:PutParameter'))!;
    expect(list(statement.Resource)).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/ecs-peers/shop',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/ecs-peers/shop/part/*',
    ]);
    const byDefault = resolveStack(stack.template, {
      ...TEST_STACK,
      parameters: { ...TEST_STACK.parameters, PeersParameterName: '' },
    });
    const defaultStatement = byDefault
      .properties<typeof role>('ReconcileRole')
      .Policies.flatMap(({ PolicyDocument }) => PolicyDocument.Statement)
      .find((candidate) => list(candidate.Action).includes('ssm:PutParameter'))!;
    expect(list(defaultStatement.Resource)).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/ecs-peers/shop-peers',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/ecs-peers/shop-peers/part/*',
    ]);
  });
});

describe('the reader policy (template.yaml PeersReaderPolicy, for the ECS task role)', () => {
  const reader = [{ name: 'reader', policy: readerPolicy }];

  it('allows ssm:GetParameter on the peer set parameter', async () => {
    await expect(simulate(reader, 'ssm:GetParameter', { resource: PARAMETER_ARN })).resolves.toBe('Allowed');
  });

  it.each(['/ecs-peers/shop/part/0', '/ecs-peers/shop/part/9'])('allows ssm:GetParameters on the part %s', async (name) => {
    await expect(simulate(reader, 'ssm:GetParameters', { resource: parameterArn(name) })).resolves.toBe('Allowed');
  });

  it('covers exactly NAME and NAME/part/*', () => {
    expect(readerPolicy.Statement.flatMap((statement) => list(statement.Resource)).filter((arn) => arn.includes(':ssm:'))).toEqual([
      PARAMETER_ARN,
      `${PARAMETER_ARN}/part/*`,
    ]);
  });

  it.each([
    ['ssm:GetParameter', parameterArn('/ecs-peers/other')],
    ['ssm:GetParameter', parameterArn('/app/database-password')],
    ['ssm:PutParameter', PARAMETER_ARN],
    ['ssm:DeleteParameter', PARAMETER_ARN],
    ['ssm:GetParametersByPath', parameterArn('/ecs-peers')],
    ['ssm:GetParameters', parameterArn('/ecs-peers/other')],
    ['ssm:GetParameter', parameterArn('/ecs-peers/shop/child')],
    ['ssm:GetParameter', parameterArn('/ecs-peers/shop2')],
    ['ssm:PutParameter', parameterArn('/ecs-peers/shop/part/0')],
  ])('denies %s on %s', async (action, resource) => {
    await expect(simulate(reader, action, { resource })).resolves.not.toBe('Allowed');
  });

  it('is an output the user can attach to the task role', () => {
    expect(stack.resolve(stack.template.Outputs!.PeersReaderPolicyArn!.Value)).toBe(
      `arn:aws:iam::${accountId}:policy/shop-peers-PeersReaderPolicy`,
    );
  });
});

describe('the task events queue policy (template.yaml TaskEventsQueuePolicy)', () => {
  const queuePolicy = stack.properties<{ PolicyDocument: PolicyDocument }>('TaskEventsQueuePolicy').PolicyDocument;
  const send = async (sourceArn: string) => {
    const result = await runSimulation(
      {
        request: {
          principal: 'events.amazonaws.com',
          action: 'sqs:SendMessage',
          resource: { resource: TASK_EVENTS_QUEUE, accountId },
          contextVariables: { 'aws:SourceArn': sourceArn },
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: queuePolicy,
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  };

  it('lets EventBridge deliver from the stack task-state rule only', async () => {
    await expect(send(stack.arn('TaskStateChangeRule'))).resolves.toBe('Allowed');
    await expect(send(`arn:aws:events:${region}:${accountId}:rule/someone-elses-rule`)).resolves.not.toBe('Allowed');
  });
});
