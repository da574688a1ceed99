/**
 * The fault proxy does what the fault matrix relies on: each fault reaches the real SDK clients in the shape AWS
 * gives it (the service's own error codes over awsJson1_1, resets, stalls, cut bodies), only on the numbered
 * call, and held or gated calls reach the upstream when the matrix says. The upstream is a small fake AWS that
 * counts what reaches it.
 */
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFaultProxy, type FaultProxy } from '../../testbed/faultProxy.js';

let upstream: Server;
let proxy: FaultProxy;
/** Requests that reached the fake AWS, by operation. */
const reached: string[] = [];
/** What the fake AWS's GetParameter answers now. */
let storedValue = 'first';

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const operation = String(request.headers['x-amz-target']).split('.')[1] ?? '';
    reached.push(operation);
    const answers: Record<string, unknown> = {
      GetResources: { ResourceTagMappingList: [], PaginationToken: '' },
      DescribeTasks: { tasks: [], failures: [] },
      GetParameter: { Parameter: { Name: '/p', Value: storedValue, Version: 1, Type: 'String' } },
    };
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(answers[operation] ?? {}));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await proxy.stop();
  await new Promise((resolve) => upstream.close(resolve));
});

beforeEach(() => {
  reached.length = 0;
  storedValue = 'first';
});

const settings = () => ({
  endpoint: proxy.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});
const tagging = () => new ResourceGroupsTaggingAPIClient(settings());
const ecs = () => new ECSClient(settings());
const ssm = () => new SSMClient(settings());
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error & { code?: string; $metadata?: { httpStatusCode?: number } },
  );

describe('fault proxy', () => {
  it("throttles with each service's own error code, as the SDK names it", async () => {
    proxy.plan(['GetResources', 'DescribeTasks', 'GetParameter'].map((api) => ({ api, fault: { kind: 'throttle' } })));
    const errors = await Promise.all([
      failureOf(tagging().send(new GetResourcesCommand({}))),
      failureOf(ecs().send(new DescribeTasksCommand({ tasks: ['t'] }))),
      failureOf(ssm().send(new GetParameterCommand({ Name: '/p' }))),
    ]);
    expect(errors.map((error) => [error?.name, error?.$metadata?.httpStatusCode])).toEqual([
      ['ThrottledException', 400],
      ['ThrottlingException', 400],
      ['ThrottlingException', 400],
    ]);
    expect(reached).toEqual([]);
  });

  it('answers 500 with the service error and 503 as unavailable', async () => {
    proxy.plan([
      { api: 'DescribeTasks', fault: { kind: 'status', status: 500 } },
      { api: 'GetParameter', fault: { kind: 'status', status: 503 } },
    ]);
    const server = await failureOf(ecs().send(new DescribeTasksCommand({ tasks: ['t'] })));
    const unavailable = await failureOf(ssm().send(new GetParameterCommand({ Name: '/p' })));
    expect([server?.name, server?.$metadata?.httpStatusCode]).toEqual(['ServerException', 500]);
    expect(unavailable?.$metadata?.httpStatusCode).toBe(503);
  });

  it('applies a fault to the numbered call of its API only, and counts every call', async () => {
    proxy.plan([{ api: 'GetParameter', calls: [2], fault: { kind: 'error', type: 'TooManyUpdates' } }]);
    const client = ssm();
    const results = [];
    for (let call = 0; call < 3; call += 1) {
      results.push(await failureOf(client.send(new GetParameterCommand({ Name: '/p' }))));
    }
    expect(results.map((error) => error?.name)).toEqual([undefined, 'TooManyUpdates', undefined]);
    expect(proxy.count('GetParameter')).toBe(3);
    expect(proxy.calls().map((call) => call.fault ?? 'none')).toEqual(['none', 'error', 'none']);
  });

  it('resets the connection', async () => {
    proxy.plan([{ api: 'GetParameter', fault: { kind: 'reset' } }]);
    const error = await failureOf(ssm().send(new GetParameterCommand({ Name: '/p' })));
    expect(`${error?.code} ${error?.message}`).toMatch(/ECONNRESET|socket hang up/);
  });

  it('stalls until the client gives up, never reaching the upstream', async () => {
    proxy.plan([{ api: 'GetParameter', fault: { kind: 'stall' } }]);
    const started = Date.now();
    const error = await failureOf(
      ssm().send(new GetParameterCommand({ Name: '/p' }), { abortSignal: AbortSignal.timeout(300) }),
    );
    expect(error?.name).toMatch(/AbortError|TimeoutError/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(reached).toEqual([]);
  });

  it('cuts a body short, under its full Content-Length or as invalid JSON', async () => {
    proxy.plan([
      { api: 'GetParameter', calls: [1], fault: { kind: 'truncate' } },
      { api: 'GetParameter', calls: [2], fault: { kind: 'cut' } },
    ]);
    const client = ssm();
    expect(await failureOf(client.send(new GetParameterCommand({ Name: '/p' })))).toBeInstanceOf(Error);
    expect(await failureOf(client.send(new GetParameterCommand({ Name: '/p' })))).toBeInstanceOf(Error);
    expect(reached).toEqual(['GetParameter', 'GetParameter']);
  });

  it('answers {} or an empty body with 200 without asking the upstream', async () => {
    proxy.plan([
      { api: 'DescribeTasks', fault: { kind: 'body', body: '{}' } },
      { api: 'GetParameter', fault: { kind: 'body', body: '' } },
    ]);
    const described = await ecs().send(new DescribeTasksCommand({ tasks: ['t'] }));
    const parameter = await ssm().send(new GetParameterCommand({ Name: '/p' }));
    expect([described.tasks, parameter.Parameter]).toEqual([undefined, undefined]);
    expect(reached).toEqual([]);
  });

  it("rewrites the upstream's answer", async () => {
    proxy.plan([
      {
        api: 'GetParameter',
        fault: { kind: 'rewrite', rewrite: (answer) => ({ Parameter: { ...answer.Parameter, Version: undefined } }) },
      },
    ]);
    const { Parameter } = await ssm().send(new GetParameterCommand({ Name: '/p' }));
    expect(Parameter).toMatchObject({ Value: 'first' });
    expect(Parameter?.Version).toBeUndefined();
  });

  it('holds an answer the upstream gave on arrival until it is released', async () => {
    let release: () => void = () => {};
    proxy.plan([
      { api: 'GetParameter', fault: { kind: 'hold', release: new Promise((resolve) => (release = resolve)) } },
    ]);
    const answer = ssm().send(new GetParameterCommand({ Name: '/p' }));
    while (proxy.held('GetParameter') === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    storedValue = 'second';
    let delivered = false;
    void answer.then(() => (delivered = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(delivered).toBe(false);
    release();
    expect((await answer).Parameter?.Value).toBe('first');
  });

  it('lets a gated request reach the upstream only if its client still waits when the gate opens', async () => {
    let open: () => void = () => {};
    proxy.plan([{ api: 'GetParameter', fault: { kind: 'gate', open: new Promise((resolve) => (open = resolve)) } }]);
    const abort = new AbortController();
    const abandoned = failureOf(ssm().send(new GetParameterCommand({ Name: '/p' }), { abortSignal: abort.signal }));
    const waiting = ssm().send(new GetParameterCommand({ Name: '/p' }));
    while (proxy.count('GetParameter') < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    abort.abort();
    await abandoned;
    await new Promise((resolve) => setTimeout(resolve, 50));
    open();
    expect((await waiting).Parameter?.Value).toBe('first');
    expect(reached).toEqual(['GetParameter']);
  });

  it('answers a GetResources page asked for again as it was first answered (AWS tokens are reusable)', async () => {
    proxy.plan([]);
    const client = tagging();
    const first = await client.send(new GetResourcesCommand({ PaginationToken: 'T1' }));
    const again = await client.send(new GetResourcesCommand({ PaginationToken: 'T1' }));
    expect(again).toEqual(first);
    expect(reached).toEqual(['GetResources']);
  });
});
