/**
 * The copy-paste examples in infra/ work: rel/env.sh.eex names the node after the task IP read from a (fake)
 * ECS metadata endpoint, with the tools a slim image has; the service example tags tasks so the Tagging API
 * finds them, opens exactly the ports ERL_AFLAGS pins, and keeps the cookie in Secrets Manager.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadTemplate, ROOT } from '../../testbed/cfnTemplate.js';

const run = promisify(execFile);

const TASK_METADATA = {
  Cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop-prod',
  TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/shop-prod/0123456789abcdef',
  DesiredStatus: 'RUNNING',
  KnownStatus: 'RUNNING',
  Containers: [
    {
      Name: 'app',
      Networks: [
        {
          NetworkMode: 'awsvpc',
          IPv4Addresses: ['10.0.1.5'],
          IPv4SubnetCIDRBlock: '10.0.1.0/24',
          PrivateDNSName: 'ip-10-0-1-5.eu-west-1.compute.internal',
        },
      ],
    },
  ],
  LaunchType: 'FARGATE',
};

describe('infra/rel/env.sh.eex', () => {
  let server: Server;
  let endpoint: string;
  let envSh: string;
  const temporary: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/v4/abc/task') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(TASK_METADATA, null, 2));
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // What `mix release` makes of the template: EEx renders the release name.
    const dir = await mkdtemp(path.join(tmpdir(), 'ecs-peers-env-'));
    temporary.push(dir);
    envSh = path.join(dir, 'env.sh');
    const template = await readFile(path.join(ROOT, 'infra/rel/env.sh.eex'), 'utf8');
    await writeFile(envSh, template.replaceAll('<%= @release.name %>', 'shop'));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** Sources env.sh with a PATH that holds only `tools`, as in an image without curl or wget. */
  const source = async (tools: string[], env: Record<string, string>) => {
    const bin = await mkdtemp(path.join(tmpdir(), 'ecs-peers-bin-'));
    temporary.push(bin);
    for (const tool of tools) {
      const { stdout } = await run('sh', ['-c', `command -v ${tool}`]);
      await symlink(stdout.trim(), path.join(bin, tool));
    }
    return run('/bin/sh', ['-c', `. "${envSh}"; echo "$RELEASE_DISTRIBUTION $RELEASE_NODE"`], {
      env: { PATH: bin, ...env },
    });
  };

  it('names the node BASENAME@TASK_IP with only sh, sed, tr and bash (a Debian slim image)', async () => {
    const { stdout } = await source(['sh', 'sed', 'tr', 'bash'], {
      ECS_CONTAINER_METADATA_URI_V4: `${endpoint}/v4/abc`,
    });
    expect(stdout.trim()).toBe('name shop@10.0.1.5');
  });

  it('takes the basename from ECS_PEERS_BASENAME when set', async () => {
    const { stdout } = await source(['sh', 'sed', 'tr', 'bash'], {
      ECS_CONTAINER_METADATA_URI_V4: `${endpoint}/v4/abc`,
      ECS_PEERS_BASENAME: 'billing',
    });
    expect(stdout.trim()).toBe('name billing@10.0.1.5');
  });

  it('stops the release from starting when the IP cannot be read', async () => {
    await expect(
      source(['sh', 'sed', 'tr', 'bash'], { ECS_CONTAINER_METADATA_URI_V4: `${endpoint}/v4/gone` }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('could not read the task IPv4'),
    });
  });

  it('leaves the node alone outside ECS (no metadata endpoint)', async () => {
    const { stdout } = await source(['sh', 'sed', 'tr'], {});
    expect(stdout.trim()).toBe('');
  });
});

describe('infra/service.yaml and infra/task-definition.json', () => {
  const service = loadTemplate(path.join(ROOT, 'infra/service.yaml'));
  const resources = service.Resources;
  const distFlags = /inet_dist_listen_min (\d+) inet_dist_listen_max (\d+)/;

  it('propagates the service tags to the tasks, which the Tagging API needs', () => {
    expect(resources.Service!.Properties).toMatchObject({
      PropagateTags: 'SERVICE',
      Tags: expect.arrayContaining([expect.objectContaining({ Key: 'app' })]),
    });
  });

  it('opens EPMD and the pinned distribution ports to the app tasks only (self-referencing group)', () => {
    const ingress = Object.values(resources).filter((resource) => resource.Type === 'AWS::EC2::SecurityGroupIngress');
    const env = (resources.TaskDefinition!.Properties as any).ContainerDefinitions[0].Environment as {
      Name: string;
      Value: string;
    }[];
    const [, min, max] = distFlags.exec(env.find((variable) => variable.Name === 'ERL_AFLAGS')!.Value)!;
    expect(ingress.map((rule) => rule.Properties)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ FromPort: 4369, ToPort: 4369 }),
        expect.objectContaining({ FromPort: Number(min), ToPort: Number(max) }),
      ]),
    );
    for (const rule of ingress) {
      expect(rule.Properties).toMatchObject({
        GroupId: { Ref: 'TaskSecurityGroup' },
        SourceSecurityGroupId: { Ref: 'TaskSecurityGroup' },
      });
    }
  });

  it('gives the task role the reader policy of the ecs-peers stack and nothing else', () => {
    expect(resources.TaskRole!.Properties).toMatchObject({ ManagedPolicyArns: [{ Ref: 'PeersReaderPolicyArn' }] });
    expect(resources.TaskRole!.Properties!.Policies).toBeUndefined();
  });

  it('takes the cookie from Secrets Manager, never from a plain variable', async () => {
    const taskDefinition = JSON.parse(await readFile(path.join(ROOT, 'infra/task-definition.json'), 'utf8'));
    const [container] = taskDefinition.containerDefinitions;
    expect(container.secrets.map((secret: { name: string }) => secret.name)).toContain('RELEASE_COOKIE');
    expect(container.environment.map((variable: { name: string }) => variable.name)).not.toContain('RELEASE_COOKIE');
    expect(taskDefinition.networkMode).toBe('awsvpc');
    const flags = container.environment.find((variable: { name: string }) => variable.name === 'ERL_AFLAGS').value;
    expect(distFlags.exec(flags)?.slice(1)).toEqual(['9100', '9155']);
  });
});
