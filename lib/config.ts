import * as z from 'zod';
import { BASENAME_PATTERN } from './constants.js';
import { ConfigError } from './errors.js';

/** The reconciler's configuration, read from the Lambda environment. */
export interface Config {
  /** SSM parameter that holds the peer set, e.g. `/ecs-peers/shop`. */
  peersParameter: string;
  /** Tags a task must carry: key -> accepted values (any of them). */
  taskTags: Record<string, string[]>;
  /** Cluster name the peers must belong to; undefined accepts every cluster. */
  cluster?: string;
  /** The node name part before `@`. */
  nodeBasename: string;
}

// SSM's own rules, checked here so that a bad name fails at cold start rather than at the first write.
const parameterName = z
  .string()
  .min(1)
  .max(1011)
  .regex(/^[a-zA-Z0-9_.\-/]+$/, 'only letters, digits and _ . - / are allowed in an SSM parameter name')
  .refine(
    (name) => !name.includes('/') || name.startsWith('/'),
    'a name with / must start with /, e.g. /ecs-peers/shop',
  )
  .refine((name) => !name.includes('//') && !name.endsWith('/'), 'must not contain // or end with /')
  .refine((name) => !/^\/?(aws|ssm)/i.test(name), 'must not begin with aws or ssm (reserved by AWS)')
  .refine((name) => name.split('/').length - 1 <= 15, 'may have at most 15 levels');

const tagValue = z.string().max(256);
const taskTags = z
  .record(z.string().min(1).max(128), z.union([tagValue, z.array(tagValue).min(1).max(20)]))
  .refine((tags) => Object.keys(tags).length > 0, 'must name at least one tag')
  .refine((tags) => Object.keys(tags).length <= 50, 'may name at most 50 tags')
  .transform((tags) =>
    Object.fromEntries(Object.entries(tags).map(([key, value]) => [key, typeof value === 'string' ? [value] : value])),
  );

/**
 * Cluster name from a name or a cluster ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`).
 *
 * @param nameOrArn - what the user configured
 */
export const clusterName = (nameOrArn: string): string =>
  nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.indexOf(':cluster/') + ':cluster/'.length) : nameOrArn;

const cluster = z
  .string()
  .min(1)
  .refine(
    (value) => !value.startsWith('arn:') || /^arn:[\w-]+:ecs:[\w-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/.test(value),
    'an ARN must look like arn:aws:ecs:REGION:ACCOUNT:cluster/NAME',
  )
  .transform(clusterName)
  .pipe(z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'a cluster name has 1-255 letters, digits, _ and -'));

const schema = z.object({
  PEERS_PARAMETER: parameterName,
  TASK_TAGS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"app":"shop","env":["prod"]}' });
        return z.NEVER;
      }
    })
    .pipe(taskTags),
  ECS_CLUSTER: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(cluster.optional()),
  NODE_BASENAME: z.string().regex(BASENAME_PATTERN, '1-64 letters, digits, _ and -'),
});

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
    TASK_TAGS: env.TASK_TAGS,
    ECS_CLUSTER: env.ECS_CLUSTER,
    NODE_BASENAME: env.NODE_BASENAME,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      const detail = env[variable] === undefined ? 'is required' : issue.message;
      const where = issue.path.length > 1 ? ` (at ${issue.path.slice(1).join('.')})` : '';
      return `${variable}${where} ${detail}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const { PEERS_PARAMETER, TASK_TAGS, ECS_CLUSTER, NODE_BASENAME } = parsed.data;
  return {
    peersParameter: PEERS_PARAMETER,
    taskTags: TASK_TAGS,
    nodeBasename: NODE_BASENAME,
    ...(ECS_CLUSTER === undefined ? {} : { cluster: ECS_CLUSTER }),
  };
};
