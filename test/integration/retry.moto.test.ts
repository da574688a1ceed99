/**
 * The production clients' retries, for real: a loopback proxy in front of moto answers the first DescribeTasks
 * requests with ThrottlingException, and the SDK's adaptive retry (createClients) must ride it out, or, when the
 * throttling outlasts every attempt, fail the run without touching the parameter.
 */
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClients } from '../../lib/clients.js';
import { DiscoveryError } from '../../lib/errors.js';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { reconcile } from '../../lib/reconcile.js';
import { seedEstate } from '../../testbed/seedEstate.js';
import type { MotoServer } from '../../testbed/motoServer.js';
import { motoClients, useMoto } from '../support/motoEnv.js';

const PARAMETER = '/ecs-peers/retry';
const config = { peersParameter: PARAMETER, taskTags: { app: ['shop'] }, cluster: 'prod', nodeBasename: 'shop' };
const scheduled = { kind: 'schedule' as const, force: false, dryRun: false, failedMessageIds: [] };

let moto: MotoServer;
let proxy: Server;
let proxyEndpoint: string;
/** How many DescribeTasks requests the proxy still answers with ThrottlingException. */
let throttleNext = 0;
let throttled = 0;

const readBody = async (request: AsyncIterable<Buffer>) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks);
};

beforeAll(async () => {
  moto = await useMoto();
  const { ecs, ec2 } = motoClients();
  await seedEstate(ecs, ec2, [{ cluster: 'prod', count: 3, tags: { app: 'shop' } }]);
  proxy = createServer(async (request, response) => {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target.endsWith('.DescribeTasks') && throttleNext > 0) {
      throttleNext -= 1;
      throttled += 1;
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([name, value]) =>
        name === 'host' || name === 'content-length' || value === undefined ? [] : [[name, String(value)]],
      ),
    );
    const upstream = await fetch(`${moto.endpoint}${request.url}`, { method: request.method, headers, body });
    response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await moto?.stop();
});

beforeEach(() => {
  throttled = 0;
});

describe('retries of the production clients', () => {
  it('rides out two throttled DescribeTasks requests and publishes, counting every request', async () => {
    throttleNext = 2;
    const report = await reconcile(createClients({ endpoint: proxyEndpoint }), config, scheduled);
    expect(throttled).toBe(2);
    expect(report.nodes).toHaveLength(3);
    expect(report.written).toBe(true);
    expect(report.apiCalls['ecs:DescribeTasks']).toBe(3);
  });

  it('fails after its five attempts when throttling lasts, leaving the parameter as it was', async () => {
    const ssm = motoClients().ssm;
    await ssm.send(
      new PutParameterCommand({
        Name: PARAMETER,
        Value: encodePeerSet(['shop@10.9.9.9']),
        Type: 'String',
        Overwrite: true,
      }),
    );
    const before = (await ssm.send(new GetParameterCommand({ Name: PARAMETER }))).Parameter!;
    throttleNext = 100;

    const failure = await reconcile(createClients({ endpoint: proxyEndpoint }), config, scheduled).catch(
      (e: unknown) => e,
    );
    throttleNext = 0;

    expect(failure).toBeInstanceOf(DiscoveryError);
    expect((failure as Error).message).toMatch(/ecs:DescribeTasks: cluster prod: ThrottlingException: Rate exceeded/);
    expect(throttled).toBe(5);
    const after = (await ssm.send(new GetParameterCommand({ Name: PARAMETER }))).Parameter!;
    expect(after).toMatchObject({ Version: before.Version, Value: before.Value });
  });
});
