/**
 * The production clients over real HTTP on loopback: a tiny endpoint that hangs, resets or answers with an
 * empty body. Shows what aws-sdk-client-mock cannot: the request timeouts exist, and the SDK retries a
 * TimeoutError and a reset like any transient error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createClients, HTTP_TIMEOUTS } from '../../lib/clients.js';
import { CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../lib/constants.js';
import { DiscoveryError, RunDeadlineError } from '../../lib/errors.js';
import { getTaskArns } from '../../lib/discover/index.js';
import { writeParameter } from '../../lib/publish/index.js';
import { startRun } from '../../lib/runScope.js';

type Behaviour = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let endpoint: string;
const sockets = new Set<Socket>();
/** What the endpoint does on each request, in order; the last one repeats. */
let behaviours: Behaviour[] = [];
let requests = 0;

const answer: Behaviour = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(
    JSON.stringify({ ResourceTagMappingList: [{ ResourceARN: 'arn:aws:ecs:us-east-1:123456789012:task/prod/a' }] }),
  );
};
const hang: Behaviour = () => {};
const reset: Behaviour = (request) => request.socket.destroy();
const emptyBody: Behaviour = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  response.end();
};
const halfBody: Behaviour = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': '500' });
  response.write('{"ResourceTagMappingList":[');
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const behaviour = behaviours[Math.min(requests, behaviours.length - 1)]!;
    requests += 1;
    request.resume();
    request.on('end', () => behaviour(request, response));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = 0;
});

const clients = (overrides: Record<string, unknown> = {}) =>
  createClients({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    // shorter than the production timeouts, so each case takes a fraction of a second
    requestHandler: { ...HTTP_TIMEOUTS, requestTimeout: 200, socketTimeout: 200 },
    ...overrides,
  });

const discover = async (overrides: Record<string, unknown> = {}, remainingMs?: number) => {
  const scope = startRun(remainingMs === undefined ? {} : { remainingMs });
  try {
    return { arns: await getTaskArns(clients(overrides).tagging, { app: ['shop'] }, scope), calls: scope.calls };
  } catch (error) {
    return { error: error as DiscoveryError, calls: scope.calls };
  } finally {
    scope.end();
  }
};

describe('the production clients', () => {
  it('set a connect and a request timeout on every client, thrown as errors', async () => {
    for (const client of Object.values(createClients({ region: 'us-east-1' }))) {
      const handler = client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
      expect(await handler.configProvider).toMatchObject({
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        socketTimeout: REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      });
    }
  });

  it('time out a request that hangs and retry it', async () => {
    behaviours = [hang, answer];
    const { arns, calls } = await discover();
    expect(arns).toHaveLength(1);
    expect(calls).toEqual({ 'tag:GetResources': 2 });
  });

  it('retry a connection reset (socket hang up)', async () => {
    behaviours = [reset, reset, answer];
    const { arns, calls } = await discover();
    expect(arns).toHaveLength(1);
    expect(calls).toEqual({ 'tag:GetResources': 3 });
  });

  it('retry a body that stops halfway', async () => {
    behaviours = [halfBody, answer];
    const { arns, calls } = await discover();
    expect(arns).toHaveLength(1);
    expect(calls).toEqual({ 'tag:GetResources': 2 });
  });

  it('fail after five timed-out attempts with a TimeoutError naming the call', async () => {
    behaviours = [hang];
    const { error, calls } = await discover();
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error!.message).toMatch(/^tag:GetResources: TimeoutError: .*200 ms/);
    expect(calls).toEqual({ 'tag:GetResources': 5 });
  });

  it('read a 200 with an empty body as an invalid answer, not as the last page', async () => {
    behaviours = [emptyBody];
    const { error } = await discover();
    expect(error!.message).toMatch(
      /^tag:GetResources: InvalidResponseError: invalid answer \(page 1\): ResourceTagMappingList/,
    );
  });

  it('stop at the run deadline with a RunDeadlineError naming the call in flight', async () => {
    behaviours = [hang];
    const started = Date.now();
    const { error } = await discover({ requestHandler: { ...HTTP_TIMEOUTS } }, 500); // budget 300 ms
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(error!.cause).toBeInstanceOf(RunDeadlineError);
    expect(error!.message).toMatch(
      /^tag:GetResources: RunDeadlineError: the run's time budget of 300 ms ran out during this call/,
    );
  });

  it('leave PutParameter retries to the write, which re-reads the version before each attempt', async () => {
    const seen: string[] = [];
    let puts = 0;
    behaviours = [
      (request, response) => {
        const operation = String(request.headers['x-amz-target']).split('.')[1]!;
        seen.push(operation);
        response.writeHead(
          operation === 'PutParameter' && puts++ === 0 ? 503 : operation === 'GetParameter' ? 400 : 200,
          {
            'content-type': 'application/x-amz-json-1.1',
          },
        );
        response.end(
          operation === 'GetParameter'
            ? JSON.stringify({ __type: 'ParameterNotFound', message: 'none' })
            : JSON.stringify(puts === 1 ? { __type: 'ServiceUnavailable', message: 'busy' } : { Version: 1 }),
        );
      },
    ];
    const scope = startRun();
    const version = await writeParameter(clients().ssm, '/ecs-peers/shop', 'v', 'Standard', undefined, scope).finally(
      scope.end,
    );
    expect(version).toBe(1);
    expect(seen).toEqual(['GetParameter', 'PutParameter', 'GetParameter', 'PutParameter']);
    expect(scope.calls).toEqual({ 'ssm:GetParameter': 2, 'ssm:PutParameter': 2 });
  });
});
