/**
 * The command line as a user meets it (scripts/cli.ts, run with tsx in its own process): usage text for
 * --help and no arguments, usage errors, the fix named when the Region or credentials are missing, and the
 * dry run's wording against moto server.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { startMoto, type MotoServer } from '../../testbed/motoServer.js';
import { seedEstate } from '../../testbed/seedEstate.js';
import { motoEnvironment } from '../support/motoEnv.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const execute = promisify(execFile);

/**
 * An environment with no AWS configuration at all: no AWS_* variables, an empty HOME and config files, the
 * instance metadata service off, and any endpoint a closed loopback port, so nothing can leave the machine.
 */
const bareEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const home = mkdtempSync(path.join(tmpdir(), 'ecs-peers-cli-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    ...extra,
  };
};

const cli = async (args: string[], env: NodeJS.ProcessEnv = bareEnv()) => {
  try {
    const { stdout, stderr } = await execute(tsx, ['scripts/cli.ts', ...args], { cwd: root, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

const RUN = ['run', '--parameter', '/ecs-peers/shop', '--tags', '{"app":"shop"}', '--basename', 'shop'];

describe('cli usage', () => {
  it.each([['--help'], ['-h'], ['help'], []])('%p prints the usage text and exits 0', async (...args) => {
    const { code, stdout, stderr } = await cli(args.filter((arg): arg is string => typeof arg === 'string'));
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage: npm run cli -- COMMAND/);
    expect(stdout).toContain('demo ');
    expect(stdout).toContain('--parameter NAME');
  });

  it('an unknown option is a usage error naming it, without parseArgs advice', async () => {
    const { code, stderr } = await cli(['run', '--paramter', '/x']);
    expect(code).toBe(2);
    expect(stderr).toContain("ecs-peers: Unknown option '--paramter'");
    expect(stderr).not.toContain('To specify a positional argument');
    expect(stderr).toContain('usage: npm run cli');
  });

  it('run without its required options names them', async () => {
    const { code, stderr } = await cli(['run', '--tags', '{"app":"shop"}']);
    expect(code).toBe(2);
    expect(stderr).toContain('run needs --parameter, --basename');
  });

  it('an unknown command is a usage error', async () => {
    const { code, stderr } = await cli(['deploy']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command deploy');
  });
});

describe('cli run without AWS configuration names the fix', () => {
  it('no Region: set AWS_REGION', async () => {
    const { code, stderr } = await cli(RUN);
    expect(code).toBe(1);
    expect(stderr).toContain('Region is missing');
    expect(stderr).toContain('fix: no AWS Region: set AWS_REGION');
  });

  it('a Region but no credentials: set AWS_PROFILE, or the access key variables', async () => {
    const { code, stderr } = await cli(RUN, bareEnv({ AWS_REGION: 'eu-west-1' }));
    expect(code).toBe(1);
    expect(stderr).toContain('fix: no AWS credentials: set AWS_PROFILE');
    expect(stderr).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  });

  it('an AWS_PROFILE that does not exist is named', async () => {
    const { code, stderr } = await cli(RUN, bareEnv({ AWS_PROFILE: 'nosuchprofile', AWS_REGION: 'eu-west-1' }));
    expect(code).toBe(1);
    expect(stderr).toContain('fix: no AWS credentials');
    expect(stderr).toContain('AWS_PROFILE=nosuchprofile gave none');
  });
});

describe('cli run on moto server', () => {
  let moto: MotoServer;

  beforeAll(async () => {
    moto = await startMoto();
    Object.assign(process.env, motoEnvironment(moto));
    await seedEstate(new ECSClient({}), new EC2Client({}), [{ cluster: 'shop-prod', count: 2, tags: { app: 'shop' } }]);
  });

  afterAll(async () => {
    await moto.stop();
  });

  it('a dry run says what it would publish and writes nothing', async () => {
    const env = bareEnv(motoEnvironment(moto));
    const dry = await cli([...RUN, '--cluster', 'shop-prod'], env);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('== dry run: nothing written (pass --write to publish)');
    expect(dry.stdout).toMatch(/would publish +yes: the set differs from the parameter/);
    expect(dry.stdout).not.toContain('not published');

    const written = await cli([...RUN, '--cluster', 'shop-prod', '--write'], env);
    expect(written.stdout).toMatch(/changed \/ written +true \/ true/);
    const again = await cli([...RUN, '--cluster', 'shop-prod'], env);
    expect(again.stdout).toMatch(/would publish +no: the parameter already holds this set/);
  });
});
