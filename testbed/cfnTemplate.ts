/**
 * Reads template.yaml (CloudFormation short-form tags included) and resolves its intrinsic functions against
 * fixed parameter values, a fixed account and Region, and made-up physical names for the stack's resources, so
 * tests can read the IAM policies, environment and alarms as plain JSON.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SCHEMA, load, Type } from 'js-yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_PATH = path.join(ROOT, 'template.yaml');

/** A CloudFormation template as parsed, intrinsics still in long form (`{ "Fn::Sub": ... }`). */
export interface Template {
  Parameters: Record<string, { Type: string; Default?: string | number; AllowedPattern?: string }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<
    string,
    { Type: string; Condition?: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs?: Record<string, { Value: unknown; Condition?: string }>;
}

/** Where the resolved stack lives. */
export interface StackContext {
  accountId: string;
  region: string;
  partition: string;
  stackName: string;
  /** Parameter values; parameters left out take their defaults. */
  parameters: Record<string, string>;
}

export const TEST_STACK: StackContext = {
  accountId: '123456789012',
  region: 'eu-west-1',
  partition: 'aws',
  stackName: 'shop-peers',
  parameters: {
    ClusterName: 'shop-prod',
    TaskTags: '{"app":"shop","env":"prod"}',
    NodeBasename: 'shop',
    PeersParameterName: '/ecs-peers/shop',
  },
};

const ALL_FUNCTIONS = [
  'Ref',
  'Condition',
  'Fn::Sub',
  'Fn::GetAtt',
  'Fn::Base64',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::FindInMap',
  'Fn::Cidr',
  'Fn::Length',
  'Fn::ToJsonString',
];

/** `!Ref x` -> `{ Ref: x }`, `!GetAtt a.b` -> `{ 'Fn::GetAtt': ['a', 'b'] }`, and so on, in every YAML node kind. */
const CFN_SCHEMA = DEFAULT_SCHEMA.extend(
  ALL_FUNCTIONS.flatMap((name) => {
    const tag = `!${name.replace('Fn::', '')}`;
    return (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) =>
        new Type(tag, {
          kind,
          construct: (data: unknown) => {
            if (name === 'Fn::GetAtt' && typeof data === 'string') {
              const dot = data.indexOf('.');
              return { [name]: [data.slice(0, dot), data.slice(dot + 1)] };
            }
            return { [name]: data ?? '' };
          },
        }),
    );
  }),
);

/**
 * Parses the template.
 *
 * @param file - template path (default: the project's template.yaml)
 */
export const loadTemplate = (file = TEMPLATE_PATH): Template =>
  load(readFileSync(file, 'utf8'), { schema: CFN_SCHEMA }) as Template;

const NO_VALUE = Symbol('AWS::NoValue');

/** A template resolved against a stack context: `resolve` turns any part of it into plain JSON. */
export interface ResolvedStack {
  template: Template;
  context: StackContext;
  resolve: <T = unknown>(node: unknown) => T;
  condition: (name: string) => boolean;
  /** A resource's properties, resolved. */
  properties: <T = Record<string, any>>(logicalId: string) => T;
  /** The ARN a resource would have in this stack. */
  arn: (logicalId: string) => string;
}

/**
 * Resolves intrinsics the way CloudFormation would, with made-up physical names:
 * queues are `STACK-LogicalId`, roles `role/STACK-LogicalId`, and so on.
 *
 * @param template - the parsed template
 * @param context - account, Region, stack name and parameter values
 */
export const resolveStack = (template: Template, context: StackContext = TEST_STACK): ResolvedStack => {
  const { accountId, region, partition, stackName } = context;
  const physical = (id: string) => `${stackName}-${id}`;

  const parameter = (name: string): string => {
    const definition = template.Parameters[name];
    if (!definition) throw new Error(`unknown parameter ${name}`);
    const value = context.parameters[name] ?? definition.Default;
    if (value === undefined) throw new Error(`parameter ${name} has no default; give it a value in the StackContext`);
    return String(value);
  };

  const pseudo: Record<string, string> = {
    'AWS::AccountId': accountId,
    'AWS::Region': region,
    'AWS::Partition': partition,
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    'AWS::URLSuffix': 'amazonaws.com',
  };

  const resource = (id: string) => {
    const definition = template.Resources[id];
    if (!definition) throw new Error(`unknown resource ${id}`);
    return definition;
  };

  const ref = (name: string): unknown => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (name in template.Parameters) return parameter(name);
    const { Type: type, Properties = {} } = resource(name);
    switch (type) {
      case 'AWS::SSM::Parameter':
        return resolve(Properties.Name);
      case 'AWS::Logs::LogGroup':
        return resolve(Properties.LogGroupName);
      case 'AWS::Serverless::Function':
      case 'AWS::Lambda::Function':
        return Properties.FunctionName === undefined ? physical(name) : resolve(Properties.FunctionName);
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${accountId}/${physical(name)}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${partition}:iam::${accountId}:policy/${physical(name)}`;
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${region}:${accountId}:${physical(name)}`;
      // Cloud Map ids are lowercase letters and digits after the prefix.
      case 'AWS::ServiceDiscovery::Service':
        return `srv-${name.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
      case 'AWS::ServiceDiscovery::HttpNamespace':
        return `ns-${name.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
      default:
        return physical(name);
    }
  };

  const arn = (id: string): string => {
    const { Type: type } = resource(id);
    switch (type) {
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${region}:${accountId}:${physical(id)}`;
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${accountId}:role/${physical(id)}`;
      case 'AWS::Events::Rule':
        return `arn:${partition}:events:${region}:${accountId}:rule/${physical(id)}`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${physical(id)}`;
      case 'AWS::Logs::LogGroup':
        return `arn:${partition}:logs:${region}:${accountId}:log-group:${String(ref(id))}:*`;
      case 'AWS::SSM::Parameter':
        return `arn:${partition}:ssm:${region}:${accountId}:parameter/${String(ref(id)).replace(/^\//, '')}`;
      case 'AWS::Serverless::Function':
        return `arn:${partition}:lambda:${region}:${accountId}:function:${String(ref(id))}`;
      case 'AWS::ServiceDiscovery::Service':
        return `arn:${partition}:servicediscovery:${region}:${accountId}:service/${String(ref(id))}`;
      case 'AWS::ServiceDiscovery::HttpNamespace':
        return `arn:${partition}:servicediscovery:${region}:${accountId}:namespace/${String(ref(id))}`;
      default:
        throw new Error(`no ARN known for ${id} (${type})`);
    }
  };

  const getAtt = (id: string, attribute: string): unknown => {
    if (attribute === 'Arn') return arn(id);
    if (resource(id).Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return physical(id);
    if (resource(id).Type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return ref(id);
    if (resource(id).Type.startsWith('AWS::ServiceDiscovery::') && attribute === 'Id') return ref(id);
    if (resource(id).Type === 'AWS::ServiceDiscovery::Service' && attribute === 'Name') {
      return resolve(resource(id).Properties?.Name);
    }
    throw new Error(`no value known for !GetAtt ${id}.${attribute}`);
  };

  const sub = (text: string, variables: Record<string, unknown>): string =>
    text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in variables) return String(resolve(variables[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return String(getAtt(name.slice(0, dot), name.slice(dot + 1)));
      return String(ref(name));
    });

  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    if (!conditions.has(name)) {
      const definition = template.Conditions?.[name];
      if (definition === undefined) throw new Error(`unknown condition ${name}`);
      conditions.set(name, Boolean(resolve(definition)));
    }
    return conditions.get(name)!;
  };

  const fn = (name: string, argument: any): unknown => {
    switch (name) {
      case 'Ref':
        return ref(argument);
      case 'Condition':
        return condition(argument);
      case 'Fn::Sub':
        return Array.isArray(argument) ? sub(argument[0], argument[1] ?? {}) : sub(argument, {});
      case 'Fn::GetAtt':
        return getAtt(argument[0], argument[1]);
      case 'Fn::If':
        return resolve(condition(argument[0]) ? argument[1] : argument[2]);
      case 'Fn::Equals':
        return JSON.stringify(resolve(argument[0])) === JSON.stringify(resolve(argument[1]));
      case 'Fn::Not':
        return !resolve(argument[0]);
      case 'Fn::And':
        return (argument as unknown[]).every((item) => resolve(item));
      case 'Fn::Or':
        return (argument as unknown[]).some((item) => resolve(item));
      case 'Fn::Join':
        return (resolve(argument[1]) as unknown[]).join(argument[0]);
      case 'Fn::Select':
        return (resolve(argument[1]) as unknown[])[Number(resolve(argument[0]))];
      case 'Fn::Split':
        return String(resolve(argument[1])).split(argument[0]);
      default:
        throw new Error(`${name} is not supported by the test resolver`);
    }
  };

  const resolve = <T = unknown>(node: unknown): T => {
    if (Array.isArray(node)) return node.map((item) => resolve(item)).filter((item) => item !== NO_VALUE) as T;
    if (node && typeof node === 'object') {
      const keys = Object.keys(node);
      if (keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0]!.startsWith('Fn::'))) {
        return fn(keys[0]!, (node as Record<string, unknown>)[keys[0]!]) as T;
      }
      const entries = Object.entries(node).map(([key, value]) => [key, resolve(value)] as const);
      return Object.fromEntries(entries.filter(([, value]) => value !== NO_VALUE)) as T;
    }
    return node as T;
  };

  const properties = <T = Record<string, any>>(id: string): T => resolve<T>(resource(id).Properties ?? {});

  return { template, context, resolve, condition, properties, arn };
};
