/**
 * What the Serverless Application Repository tests share: the template's SAR metadata, package.json, the
 * deployment examples, and the project's Python tools (cfn-lint, the SAM CLI) found in `.venv` or on PATH.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadTemplate, ROOT, type Template } from '../../testbed/cfnTemplate.js';

const run = promisify(execFile);

/** The fields of `Metadata.AWS::ServerlessRepo::Application` that `sam publish` reads. */
export interface SarMetadata {
  Name: string;
  Description: string;
  Author: string;
  SpdxLicenseId: string;
  LicenseUrl: string;
  ReadmeUrl: string;
  Labels: string[];
  HomePageUrl: string;
  SemanticVersion: string;
  SourceCodeUrl: string;
}

export const template = loadTemplate();
export const sar = (template as Template & { Metadata: Record<string, unknown> }).Metadata[
  'AWS::ServerlessRepo::Application'
] as SarMetadata;
export const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
};

export const EXAMPLES_DIR = 'docs/examples/serverless-repo';
/** An example's text, by its path under docs/examples/serverless-repo. */
export const example = (file: string): string => readFileSync(path.join(ROOT, EXAMPLES_DIR, file), 'utf8');

/**
 * Finds a tool of the project's Python set-up: `.venv/bin/NAME`, then PATH.
 *
 * @throws Error saying how to install it
 */
export const pythonTool = async (name: 'cfn-lint' | 'sam' | 'python'): Promise<string> => {
  const local = path.join(ROOT, '.venv/bin', name);
  if (existsSync(local)) return local;
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${name}`]);
    if (stdout.trim()) return stdout.trim();
  } catch {
    // not on PATH either
  }
  throw new Error(`${name} was not found in .venv/bin or on PATH: run \`bash scripts/setup.sh python\``);
};

/** The environment for the SAM CLI and cfn-lint: no telemetry, a Region, never real credentials. */
export const toolEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
  HOME: process.env.HOME,
  SAM_CLI_TELEMETRY: '0',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_EC2_METADATA_DISABLED: 'true',
  ...extra,
});

/**
 * Runs a tool from the project root and returns its output; a non-zero exit rejects with its output.
 *
 * @param tool - the executable
 * @param args - its arguments
 * @param env - extra environment
 */
export const runTool = async (tool: string, args: string[], env: Record<string, string> = {}) => {
  try {
    return await run(tool, args, { cwd: ROOT, env: toolEnv(env), maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(tool)} ${args.join(' ')} failed:\n${stdout}\n${stderr}`);
  }
};

/**
 * The capabilities a deployment of the template must acknowledge where SAR deploys it (console, CLI change
 * sets, Terraform), from its resources: IAM resources need CAPABILITY_IAM; resource policies, including the
 * Lambda permission SAM adds for a Schedule event, need CAPABILITY_RESOURCE_POLICY.
 */
export const requiredSarCapabilities = (): string[] => {
  const resources = Object.values(template.Resources);
  const iam = resources.some((resource) => resource.Type.startsWith('AWS::IAM::'));
  const policyTypes = [
    'AWS::SQS::QueuePolicy',
    'AWS::SNS::TopicPolicy',
    'AWS::Lambda::Permission',
    'AWS::S3::BucketPolicy',
  ];
  const events = resources.flatMap((resource) =>
    resource.Type === 'AWS::Serverless::Function'
      ? Object.values((resource.Properties?.Events ?? {}) as Record<string, { Type: string }>)
      : [],
  );
  const resourcePolicy =
    resources.some((resource) => policyTypes.includes(resource.Type)) ||
    events.some((event) =>
      ['Schedule', 'ScheduleV2', 'CloudWatchEvent', 'EventBridgeRule', 'SNS', 'S3', 'Api'].includes(event.Type),
    );
  return [...(iam ? ['CAPABILITY_IAM'] : []), ...(resourcePolicy ? ['CAPABILITY_RESOURCE_POLICY'] : [])];
};

/**
 * Checks the parameters an example gives the ecs-peers stack against the template: every one exists, every
 * parameter without a default is given, and each value matches the parameter's AllowedPattern.
 *
 * @returns the problems found, empty when the parameters are right
 */
export const parameterProblems = (given: Record<string, unknown>): string[] => {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    const definition = template.Parameters[name];
    if (!definition) {
      problems.push(`${name} is not a parameter of template.yaml`);
      continue;
    }
    if (typeof value !== 'string') problems.push(`${name} must be a string, got ${JSON.stringify(value)}`);
    else if (definition.AllowedPattern && !new RegExp(definition.AllowedPattern).test(value)) {
      problems.push(`${name}=${value} does not match ${definition.AllowedPattern}`);
    }
  }
  for (const [name, definition] of Object.entries(template.Parameters)) {
    if (definition.Default === undefined && !(name in given)) problems.push(`${name} has no default and is not given`);
  }
  return problems;
};
