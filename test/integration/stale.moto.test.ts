/**
 * No stale overwrite, against moto's real parameter versions: a value written while a run discovers is kept
 * (the run re-reads the version just before its write), and a run whose invocation ended never writes later.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { createClients } from '../../lib/clients.js';
import { ConflictError, DiscoveryError, InvocationEndedError } from '../../lib/errors.js';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { reconcile } from '../../lib/reconcile.js';
import type { MotoServer } from '../../testbed/motoServer.js';
import { seedEstate } from '../../testbed/seedEstate.js';
import { motoClients, useMoto } from '../support/motoEnv.js';

const PARAMETER = '/ecs-peers/stale';
const config = { peersParameter: PARAMETER, taskTags: { app: ['shop'] }, cluster: 'prod', nodeBasename: 'shop' };
const scheduled = { kind: 'schedule' as const, force: false, dryRun: false, failedMessageIds: [] };
const newer = encodePeerSet(['shop@10.200.0.1']);

let moto: MotoServer;
const ssm = () => motoClients().ssm;
const stored = async () => (await ssm().send(new GetParameterCommand({ Name: PARAMETER }))).Parameter!;
const put = (value: string) =>
  ssm().send(new PutParameterCommand({ Name: PARAMETER, Value: value, Type: 'String', Overwrite: true }));

/** Production clients whose ECS client runs `meanwhile` before its first DescribeTasks request goes out. */
const clientsWith = (meanwhile: () => Promise<unknown>) => {
  const clients = createClients();
  const ecs = clients.ecs;
  const send = ecs.send.bind(ecs) as (...args: unknown[]) => Promise<unknown>;
  let done = false;
  (ecs as { send: unknown }).send = async (...args: unknown[]) => {
    if (!done) {
      done = true;
      await meanwhile();
    }
    return send(...args);
  };
  return { ...clients, ecs: ecs as ECSClient };
};

beforeAll(async () => {
  moto = await useMoto();
  const { ecs, ec2 } = motoClients();
  await seedEstate(ecs, ec2, [{ cluster: 'prod', count: 3, tags: { app: 'shop' } }]);
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  await put(encodePeerSet(['shop@10.100.0.1']));
});

describe('stale overwrites', () => {
  it('keeps a value another writer published while the run was discovering', async () => {
    const before = (await stored()).Version!;
    const failure = await reconcile(
      clientsWith(() => put(newer)),
      config,
      scheduled,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConflictError);
    expect((failure as Error).message).toContain(`(version ${before} when the run started, version ${before + 1} now)`);
    expect(await stored()).toMatchObject({ Value: newer, Version: before + 1 });
  });

  it('never writes after its invocation ended mid-run', async () => {
    const invocation = new AbortController();
    const before = await stored();
    const failure = await reconcile(
      clientsWith(async () => invocation.abort()),
      config,
      scheduled,
      { signal: invocation.signal },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DiscoveryError);
    expect((failure as Error).cause).toBeInstanceOf(InvocationEndedError);
    await new Promise((resolve) => setTimeout(resolve, 500)); // anything still running would write by now
    expect(await stored()).toMatchObject({ Value: before.Value, Version: before.Version });
  });

  it('writes when nobody else did, reading the version twice', async () => {
    const report = await reconcile(createClients(), config, scheduled);
    expect(report).toMatchObject({ written: true, changed: true });
    expect(report.apiCalls).toMatchObject({ 'ssm:GetParameter': 2, 'ssm:PutParameter': 1 });
    expect((await stored()).Value).toBe(encodePeerSet(report.nodes));
  });
});
