import * as z from 'zod/mini';
import { BASENAME_PATTERN, SSM_PARAMETER_ARN_MAX_CHARS } from './constants.js';
import { ConfigError } from './errors.js';

/** The reconciler's configuration, read from the Lambda environment. */
export interface Config {
  /** SSM parameter that holds the peer set, e.g. `/ecs-peers/shop`; undefined when SSM is not a store. */
  peersParameter?: string;
  /** Cloud Map service (`srv-...`) whose instances are the peers; undefined when Cloud Map is not a store. */
  cloudMapServiceId?: string;
  /** Tags a task must carry: key -> accepted values (any of them). */
  taskTags: Record<string, string[]>;
  /** Cluster name the peers must belong to; undefined accepts every cluster. */
  cluster?: string;
  /** The account a cluster ARN in ECS_CLUSTER names, checked against the function's own at its first invocation. */
  clusterAccount?: string;
  /** The function's Region (AWS_REGION); task events of other Regions are ignored. */
  region?: string;
  /** The node name part before `@`. */
  nodeBasename: string;
  /** Pins the discovery path with ECS_CLUSTER (DISCOVERY_PATH); undefined: chosen run by run from their costs. */
  discovery?: 'tagging' | 'listTasks';
}

/** The parts of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), or undefined for something else. */
export const parseArn = (arn: string) => {
  const match = /^arn:([\w-]+):([\w-]+):([\w-]*):(\d{12}|):(.+)$/.exec(arn);
  return match
    ? { partition: match[1]!, service: match[2]!, region: match[3]!, account: match[4]!, resource: match[5]! }
    : undefined;
};

/**
 * Cluster name from a name or a cluster ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`).
 *
 * @param nameOrArn - what the user configured, or a task event's clusterArn
 */
export const clusterName = (nameOrArn: string): string =>
  nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.indexOf(':cluster/') + ':cluster/'.length) : nameOrArn;

/**
 * The account of a Lambda function from its invoked ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
 *
 * @param functionArn - `context.invokedFunctionArn`, if there is one
 */
export const accountOf = (functionArn: string | undefined): string | undefined =>
  functionArn === undefined ? undefined : parseArn(functionArn)?.account || undefined;

/** The partition a Region belongs to, for the parameter ARN's length. */
const partitionOf = (region: string): string =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

/**
 * Length of a parameter's ARN, which is what SSM's 1011-character name limit counts. Without a Region, the
 * longest Region name of the longest partition is assumed.
 *
 * @param name - the parameter name
 * @param region - the function's Region, if known
 */
export const parameterArnLength = (name: string, region = 'us-gov-west-1'): number =>
  `arn:${partitionOf(region)}:ssm:${region}:123456789012:parameter`.length +
  (name.startsWith('/') ? 0 : 1) +
  name.length;

// SSM's own rules, checked here so that a bad name fails at cold start rather than at the first write.
const parameterName = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.regex(/^[a-zA-Z0-9_.\-/]+$/, 'only letters, digits and _ . - / are allowed in an SSM parameter name'),
  z.refine((name) => !name.includes('/') || name.startsWith('/'), 'a name with / must start with /, e.g. /ecs-peers/shop'),
  z.refine((name) => !name.includes('//') && !name.endsWith('/'), 'must not contain // or end with /'),
  z.refine((name) => !/^\/?(aws|ssm)/i.test(name), 'must not begin with aws or ssm (reserved by AWS)'),
  // SSM allows 15 levels; the v2 form's parts add two (NAME/part/N).
  z.refine((name) => name.split('/').length - 1 <= 13, 'may have at most 13 levels (SSM allows 15; parts add /part/N)'),
);

// AWS tag keys and values: Unicode letters, digits, spaces and _ . : / = + - @ (no control characters).
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARS = 'may hold only letters, digits, spaces and _ . : / = + - @';
const tagValue = z
  .string('a tag value must be a string')
  .check(z.maxLength(256, 'a tag value has at most 256 characters'), z.regex(TAG_TEXT, `a tag value ${TAG_CHARS}`));
const tagKey = z
  .string()
  .check(
    z.minLength(1, 'a tag key must not be empty'),
    z.maxLength(128, 'a tag key has at most 128 characters'),
    z.regex(TAG_TEXT, `a tag key ${TAG_CHARS}`),
  );
const tagValues = z
  .array(tagValue, 'must list values as strings')
  .check(z.minLength(1, 'must list at least one value'), z.maxLength(20, 'may list at most 20 values'));
const taskTags = z.pipe(
  z
    .record(z.string(), z.union([tagValue, tagValues], 'a tag value must be a string or a list of strings'), {
      error: 'must be a JSON object of tag key to value(s)',
    })
    .check(
      z.superRefine((tags, ctx) => {
        for (const key of Object.keys(tags)) {
          const checked = tagKey.safeParse(key);
          if (!checked.success) {
            ctx.addIssue({ code: 'custom', path: [JSON.stringify(key)], message: checked.error.issues[0]!.message });
          }
        }
      }),
      z.refine((tags) => Object.keys(tags).length > 0, 'must name at least one tag'),
      z.refine((tags) => Object.keys(tags).length <= 50, 'may name at most 50 tags'),
    ),
  z.transform((tags) =>
    Object.fromEntries(Object.entries(tags).map(([key, value]) => [key, typeof value === 'string' ? [value] : value])),
  ),
);

const cluster = z
  .pipe(
    z
      .string()
      .check(
        z.minLength(1),
        z.refine(
          (value) =>
            !value.startsWith('arn:') || /^arn:[\w-]+:ecs:[\w-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/.test(value),
          'an ARN must look like arn:aws:ecs:REGION:ACCOUNT:cluster/NAME',
        ),
      ),
    z.transform((value: string) => {
      const arn = parseArn(value);
      return { name: clusterName(value), arn: arn && { region: arn.region, account: arn.account } };
    }),
  )
  .check(
    z.refine((value) => /^[A-Za-z0-9_-]{1,255}$/.test(value.name), 'a cluster name has 1-255 letters, digits, _ and -'),
  );

// Cloud Map ids: `srv-` and lowercase letters and digits (ServiceId is at most 64 characters).
const serviceId = z
  .string()
  .check(z.regex(/^srv-[a-z0-9]{1,60}$/, 'must be a Cloud Map service id, e.g. srv-e4anhexample0004'));
/** An optional variable: unset or empty means not given. */
const optional = <T extends z.ZodMiniType<unknown, string>>(type: T) =>
  z.pipe(
    z.pipe(
      z.optional(z.string()),
      z.transform((value) => (value === '' ? undefined : value)),
    ),
    z.optional(type),
  );

const schema = z
  .object({
    PEERS_PARAMETER: optional(parameterName),
    CLOUD_MAP_SERVICE_ID: optional(serviceId),
    TASK_TAGS: z.pipe(
      z.pipe(
        z.string(),
        z.transform((text: string, payload) => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            payload.issues.push({ code: 'custom', input: text, message: 'must be JSON, e.g. {"app":"shop","env":["prod"]}' });
            return z.NEVER;
          }
        }),
      ),
      taskTags,
    ),
    ECS_CLUSTER: optional(cluster),
    NODE_BASENAME: z.string().check(z.regex(BASENAME_PATTERN, '1-64 letters, digits, _ and -')),
    DISCOVERY_PATH: z.optional(z.enum(['tagging', 'listTasks', ''], 'must be tagging or listTasks')),
    AWS_REGION: z.optional(z.string().check(z.minLength(1))),
  })
  .check(z.superRefine(({ PEERS_PARAMETER, CLOUD_MAP_SERVICE_ID, ECS_CLUSTER, AWS_REGION }, ctx) => {
    if (PEERS_PARAMETER === undefined && CLOUD_MAP_SERVICE_ID === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['PEERS_PARAMETER or CLOUD_MAP_SERVICE_ID'],
        message:
          'is required: set PEERS_PARAMETER (an SSM parameter), CLOUD_MAP_SERVICE_ID (a Cloud Map service, ' +
          'srv-...) or both, for the store(s) the peer set is published to',
      });
    }
    // The longest name the run writes is its last part's (NAME/part/9).
    const arnLength = PEERS_PARAMETER === undefined ? 0 : parameterArnLength(`${PEERS_PARAMETER}/part/9`, AWS_REGION);
    if (arnLength > SSM_PARAMETER_ARN_MAX_CHARS) {
      ctx.addIssue({
        code: 'custom',
        path: ['PEERS_PARAMETER'],
        message:
          `is too long: SSM allows ${SSM_PARAMETER_ARN_MAX_CHARS} characters for the whole parameter ARN ` +
          `(arn:aws:ssm:REGION:ACCOUNT:parameter/NAME), and this one has ${arnLength}`,
      });
    }
    const region = ECS_CLUSTER?.arn?.region;
    if (region !== undefined && AWS_REGION !== undefined && region !== AWS_REGION) {
      ctx.addIssue({
        code: 'custom',
        path: ['ECS_CLUSTER'],
        message:
          `is the ARN of a cluster in Region ${region}, but the function runs in ${AWS_REGION} (AWS_REGION): it sees ` +
          `only the tasks of its own Region; deploy it in ${region}, or name a cluster of ${AWS_REGION}`,
      });
    }
  }));

/**
 * Reads and validates the configuration from environment variables.
 *
 * @param env - the environment, usually `process.env`
 * @throws ConfigError naming every variable that is missing or wrong
 * @example
 * const config = loadConfig(process.env);
 */
export const loadConfig = (env: Record<string, string | undefined>): Config => {
  const parsed = schema.safeParse({
    PEERS_PARAMETER: env.PEERS_PARAMETER,
    CLOUD_MAP_SERVICE_ID: env.CLOUD_MAP_SERVICE_ID,
    TASK_TAGS: env.TASK_TAGS,
    ECS_CLUSTER: env.ECS_CLUSTER,
    NODE_BASENAME: env.NODE_BASENAME,
    DISCOVERY_PATH: env.DISCOVERY_PATH,
    AWS_REGION: env.AWS_REGION || undefined,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      const detail = env[variable] === undefined && !issue.message.startsWith('is ') ? 'is required' : issue.message;
      const where = issue.path.length > 1 ? ` (at ${issue.path.slice(1).join('.')})` : '';
      return `${variable}${where} ${detail}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const { PEERS_PARAMETER, CLOUD_MAP_SERVICE_ID, TASK_TAGS, ECS_CLUSTER, NODE_BASENAME, DISCOVERY_PATH, AWS_REGION } =
    parsed.data;
  return {
    ...(PEERS_PARAMETER === undefined ? {} : { peersParameter: PEERS_PARAMETER }),
    ...(CLOUD_MAP_SERVICE_ID === undefined ? {} : { cloudMapServiceId: CLOUD_MAP_SERVICE_ID }),
    taskTags: TASK_TAGS,
    nodeBasename: NODE_BASENAME,
    ...(ECS_CLUSTER === undefined ? {} : { cluster: ECS_CLUSTER.name }),
    ...(ECS_CLUSTER?.arn === undefined ? {} : { clusterAccount: ECS_CLUSTER.arn.account }),
    ...(AWS_REGION === undefined ? {} : { region: AWS_REGION }),
    ...(DISCOVERY_PATH ? { discovery: DISCOVERY_PATH } : {}),
  };
};

/**
 * Checks, once the function's account is known (its first invocation), that a cluster ARN in ECS_CLUSTER
 * names that account: the Tagging API and DescribeTasks see only the function's own account, so another
 * account's ARN would silently stand for a local cluster of the same name.
 *
 * @param config - the configuration
 * @param account - the function's account, from `context.invokedFunctionArn`, if known
 * @throws ConfigError when the accounts differ
 */
export const checkClusterAccount = (config: Config, account: string | undefined): void => {
  if (config.clusterAccount === undefined || account === undefined || config.clusterAccount === account) return;
  throw new ConfigError(
    `invalid configuration: ECS_CLUSTER is the ARN of a cluster in account ${config.clusterAccount}, but the ` +
      `function runs in account ${account}: it sees only its own account's tasks; deploy it in ` +
      `${config.clusterAccount}, or name a cluster of ${account}`,
  );
};
