/**
 * The deployment examples of docs/deploy.md (docs/examples/serverless-repo/) deploy the published application
 * as the template expects: each is checked by its ecosystem's own tool where one runs here (cfn-lint and
 * `sam validate --lint` for the templates, aws-cdk-lib synthesis for the CDK app, HashiCorp's HCL parser for
 * Terraform), and each names the application, version, parameters, outputs and capabilities the template has.
 * The page shows each file byte for byte.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { App } from 'aws-cdk-lib';
import { loadTemplate, ROOT, type Template } from '../../testbed/cfnTemplate.js';
import { app as exampleApp } from '../../docs/examples/serverless-repo/cdk/app.js';
import { ECS_PEERS, ShopPeersStack } from '../../docs/examples/serverless-repo/cdk/peers-stack.js';
import {
  example,
  EXAMPLES_DIR,
  packageJson,
  parameterProblems,
  pythonTool,
  requiredSarCapabilities,
  runTool,
  sar,
  template,
} from './serverlessRepoFixtures.js';

/** The ID `sam publish` gives the application in some account and Region: its name is the metadata's Name. */
const APPLICATION_ID = new RegExp(`^arn:aws:serverlessrepo:[a-z0-9-]+:\\d{12}:applications/${sar.Name}$`);
const outputNames = Object.keys(template.Outputs ?? {});

/** An example template, parsed like template.yaml. */
const loadExample = (file: string) => loadTemplate(path.join(ROOT, file)) as Template & { Transform?: unknown };

/** `!GetAtt EcsPeers.Outputs.X` (parsed as Fn::GetAtt) anywhere in a template: the X's. */
const nestedOutputs = (node: unknown, logicalId: string): string[] => {
  if (Array.isArray(node)) return node.flatMap((item) => nestedOutputs(item, logicalId));
  if (node === null || typeof node !== 'object') return [];
  const getAtt = (node as Record<string, unknown>)['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId && String(getAtt[1]).startsWith('Outputs.')) {
    return [String(getAtt[1]).slice('Outputs.'.length)];
  }
  return Object.values(node).flatMap((value) => nestedOutputs(value, logicalId));
};

const listFiles = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );

describe('docs/deploy.md shows the examples as they are', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');
  const shown = [...doc.matchAll(/<!-- example: (\S+) -->\n```[a-z]*\n([\s\S]*?)```\n/g)].map(([, file, body]) => ({
    file: file!,
    body: body!,
  }));

  it('shows every example file, each block byte for byte the file', () => {
    expect(shown.map(({ file }) => file).sort()).toEqual(listFiles(EXAMPLES_DIR).sort());
    for (const { file, body } of shown) expect(body).toBe(readFileSync(path.join(ROOT, file), 'utf8'));
  });
});

describe('the nested application in a SAM template (nested-sam.yaml)', () => {
  const file = path.join(EXAMPLES_DIR, 'nested-sam.yaml');
  const nested = loadExample(file);
  const app = nested.Resources.EcsPeers!;

  it('passes cfn-lint and sam validate --lint', async () => {
    await runTool(await pythonTool('cfn-lint'), [file]);
    const { stdout } = await runTool(await pythonTool('sam'), ['validate', '--lint', '--template-file', file]);
    expect(stdout).toContain('is a valid SAM Template');
  });

  it('deploys the published application at package.json version, with valid parameters', () => {
    expect(nested.Transform).toBe('AWS::Serverless-2016-10-31');
    expect(app.Type).toBe('AWS::Serverless::Application');
    const { Location, Parameters } = app.Properties as {
      Location: Record<string, unknown>;
      Parameters: Record<string, unknown>;
    };
    expect(Location.ApplicationId).toMatch(APPLICATION_ID);
    expect(Location.SemanticVersion).toBe(packageJson.version);
    expect(parameterProblems(Parameters)).toEqual([]);
  });

  it('reads only outputs the template has, and gives the task role the reader policy', () => {
    const used = nestedOutputs(nested, 'EcsPeers');
    expect(used).toEqual(expect.arrayContaining(['PeersReaderPolicyArn', 'PeersParameterName']));
    for (const output of used) expect(outputNames).toContain(output);
    expect(nested.Resources.TaskRole!.Properties!.ManagedPolicyArns).toEqual([
      { 'Fn::GetAtt': ['EcsPeers', 'Outputs.PeersReaderPolicyArn'] },
    ]);
  });
});

describe('the nested stack in plain CloudFormation (cloudformation-stack.yaml)', () => {
  const file = path.join(EXAMPLES_DIR, 'cloudformation-stack.yaml');
  const parent = loadExample(file);

  it('passes cfn-lint and sam validate --lint, with no transform of its own', async () => {
    expect(parent.Transform).toBeUndefined();
    await runTool(await pythonTool('cfn-lint'), [file]);
    await runTool(await pythonTool('sam'), ['validate', '--lint', '--template-file', file]);
  });

  it('nests the packaged template with valid parameters and reads outputs the template has', () => {
    const stack = parent.Resources.EcsPeers!;
    expect(stack.Type).toBe('AWS::CloudFormation::Stack');
    expect(stack.Properties!.TemplateURL).toEqual({ Ref: 'EcsPeersTemplateUrl' });
    expect(parameterProblems(stack.Properties!.Parameters as Record<string, unknown>)).toEqual([]);
    for (const output of nestedOutputs(parent, 'EcsPeers')) expect(outputNames).toContain(output);
  });
});

describe('the AWS CDK app (cdk/)', () => {
  type Synthesized = { Transform?: string; Resources: Record<string, { Type: string; Properties: any }> };
  const synthesize = (app: App, stackName: string): Synthesized =>
    app.synth().getStackByName(stackName).template as Synthesized;

  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'ecs-peers-cdk-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes one AWS::Serverless::Application of the published version, with the SAM transform', () => {
    const app = new App({ outdir });
    new ShopPeersStack(app, 'shop-peers');
    const synthesized = synthesize(app, 'shop-peers');
    expect(synthesized.Transform).toBe('AWS::Serverless-2016-10-31');
    const applications = Object.entries(synthesized.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Serverless::Application',
    );
    expect(applications).toHaveLength(1);
    const [logicalId, application] = applications[0]!;
    expect(application.Properties.Location).toEqual({
      ApplicationId: ECS_PEERS.applicationId,
      SemanticVersion: packageJson.version,
    });
    expect(application.Properties.Location.ApplicationId).toMatch(APPLICATION_ID);
    expect(parameterProblems(application.Properties.Parameters)).toEqual([]);
    const used = nestedOutputs(synthesized, logicalId);
    expect(used).toContain('PeersReaderPolicyArn');
    for (const output of used) expect(outputNames).toContain(output);
    const role = Object.values(synthesized.Resources).find((resource) => resource.Type === 'AWS::IAM::Role')!;
    expect(role.Properties.ManagedPolicyArns).toEqual([{ 'Fn::GetAtt': [logicalId, 'Outputs.PeersReaderPolicyArn'] }]);
  });

  it('has an app entry point (app.ts) that synthesizes the stack', () => {
    // app.ts leaves the output folder to the CDK (a temporary cdk.out*): remove it once read.
    const assembly = exampleApp.synth();
    try {
      const synthesized = assembly.getStackByName('shop-peers').template as Synthesized;
      expect(Object.values(synthesized.Resources).map((resource) => resource.Type)).toContain(
        'AWS::Serverless::Application',
      );
    } finally {
      rmSync(assembly.directory, { recursive: true, force: true });
    }
  });
});

describe('the Terraform configuration (main.tf)', () => {
  type StackResource = {
    name: string;
    application_id: string;
    semantic_version: string;
    capabilities: string[];
    parameters: Record<string, unknown>;
  };
  let parsed: {
    resource: { aws_serverlessapplicationrepository_cloudformation_stack: Record<string, StackResource[]> };
    output: Record<string, { value: string }[]>;
  };

  beforeAll(async () => {
    parsed = (await parseHcl('main.tf', example('main.tf'))) as typeof parsed;
  });

  it('parses as HCL and deploys the published application at package.json version, with valid parameters', () => {
    const [stack] = parsed.resource.aws_serverlessapplicationrepository_cloudformation_stack.ecs_peers!;
    expect(stack!.application_id).toMatch(APPLICATION_ID);
    expect(stack!.semantic_version).toBe(packageJson.version);
    expect(parameterProblems(stack!.parameters)).toEqual([]);
    // SAR names the stack serverlessrepo-NAME, and the function STACK-reconcile must fit in 64 characters.
    expect(`serverlessrepo-${stack!.name}-reconcile`.length).toBeLessThanOrEqual(64);
  });

  it('acknowledges exactly the capabilities the template needs', () => {
    const [stack] = parsed.resource.aws_serverlessapplicationrepository_cloudformation_stack.ecs_peers!;
    expect(stack!.capabilities.sort()).toEqual(requiredSarCapabilities().sort());
    expect(requiredSarCapabilities()).toEqual(['CAPABILITY_IAM', 'CAPABILITY_RESOURCE_POLICY']);
  });

  it('reads only outputs the template has', () => {
    const values = Object.values(parsed.output).map(([output]) => output!.value);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      const name = /\.outputs\["([A-Za-z]+)"\]/.exec(value)?.[1];
      expect(outputNames).toContain(name);
    }
  });
});

describe('the artifact bucket policy (bucket-policy.json)', () => {
  it('lets only SAR read the objects, on behalf of one account', () => {
    const policy = JSON.parse(example('bucket-policy.json'));
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'serverlessrepo.amazonaws.com' },
        Action: 's3:GetObject',
        Condition: { StringEquals: { 'aws:SourceAccount': expect.stringMatching(/^\d{12}$/) } },
      }),
    ]);
  });
});
