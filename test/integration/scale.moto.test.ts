/**
 * Issue 11 at scale on moto server: 2,000 running tagged tasks in the cluster and 3,000 tasks with the same tags
 * in another cluster. The set is over v1's 8192 characters, so it is published as a v2 manifest and parts; the
 * CLI's `show` decodes it to exactly the 2,000 peers; discovery moves to the cheaper path; a change of one task
 * rewrites only the parts whose bytes changed, and the manifest.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHandler, type HandlerResult } from '../../lib/handler.js';
import { partName } from '../../lib/peerSet/index.js';
import type { MotoServer } from '../../testbed/motoServer.js';
import { seedEstate, type Estate } from '../../testbed/seedEstate.js';
import { motoClients, motoEnvironment, useMoto } from '../support/motoEnv.js';
import { scheduled } from '../support/events.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const PARAMETER = '/ecs-peers/shop';
// One tag: moto's GetResources also stops a page at 100 tags (AWS: TagsPerPage is not sent with ResourcesPerPage).
const TAGS = { app: 'shop' };
const config = { peersParameter: PARAMETER, taskTags: { app: ['shop'] }, cluster: 'shop-prod', nodeBasename: 'shop' };
// A budget for a loaded 2-core machine: paging 5,000 tasks through moto takes seconds, not AWS's milliseconds.
const context = {
  awsRequestId: 'scale',
  functionName: 'reconcile',
  getRemainingTimeInMillis: () => 150_000,
} as Context;

let moto: MotoServer;
let estate: Estate;
const handler = createHandler({
  config,
  clients: motoClients(),
  logger: new Logger({ logLevel: 'SILENT' }),
  metrics: new Metrics(),
});
const invoke = (event: unknown = scheduled) => handler(event, context) as Promise<HandlerResult>;
const expected = () => estate.peers('shop-prod', TAGS);

/** The part parameters 0..9 as SSM holds them now. */
const parts = async () => {
  const names = Array.from({ length: 10 }, (_, index) => partName(PARAMETER, index));
  const { Parameters = [] } = await motoClients().ssm.send(new GetParametersCommand({ Names: names }));
  return new Map(Parameters.map((parameter) => [parameter.Name!, parameter]));
};

/** `npm run cli -- show` against moto, as a user runs it. */
const show = async () => {
  const { stdout } = await promisify(execFile)(
    'node_modules/.bin/node',
    ['--import', 'tsx', 'scripts/cli.ts', 'show', '--parameter', PARAMETER],
    { env: { ...process.env, ...motoEnvironment(moto) }, maxBuffer: 16 * 1024 * 1024 },
  );
  const [header, ...nodes] = stdout.trim().split('\n');
  return { header, nodes };
};

beforeAll(async () => {
  moto = await useMoto();
  const { ecs, ec2 } = motoClients();
  const started = Date.now();
  estate = await seedEstate(ecs, ec2, [
    { cluster: 'shop-prod', count: 2000, tags: TAGS },
    { cluster: 'shop-other', count: 3000, tags: TAGS },
  ]);
  console.log(`seeded 5,000 tasks in ${Date.now() - started} ms`);
}, 150_000);

afterAll(async () => {
  await moto?.stop();
});

describe('5,000 tagged tasks, 2,000 of them in the cluster', () => {
  it('publishes the 2,000 peers as a v2 manifest and its parts, parts first', async () => {
    const report = await invoke();
    expect(report.nodes).toHaveLength(2000);
    expect(report.nodes).toEqual(expected());
    expect(report).toMatchObject({ changed: true, written: true });
    expect(report.tasks).toMatchObject({ discovery: 'tagging', tagged: 5000, inCluster: 2000 });
    // The Tagging API's floor: every tagged task of the Region (moto pages hold 99, and may end with an empty
    // page), then DescribeTasks of the cluster's 2,000 at 100 a call.
    expect(report.apiCalls['tag:GetResources']).toBeGreaterThanOrEqual(Math.ceil(5000 / 99));
    expect(report.apiCalls['tag:GetResources']).toBeLessThanOrEqual(Math.ceil(5000 / 99) + 1);
    expect(report.apiCalls['ecs:DescribeTasks']).toBe(20);
    const stored = await parts();
    expect(stored.size).toBeGreaterThan(0);
    // one GetParameters for the slots, and each part and then the manifest written once
    expect(report.apiCalls).toMatchObject({ 'ssm:GetParameters': 1, 'ssm:PutParameter': stored.size + 1 });
  }, 120_000);

  it('decodes through the CLI (npm run cli -- show) to exactly the 2,000 peers', async () => {
    const { header, nodes } = await show();
    expect(header).toMatch(/^\/ecs-peers\/shop \(version 1, v2, \d part\(s\), digest checked\): 2000 peers/);
    expect(header).toContain('ssm:GetParameter 1, ssm:GetParameters 1');
    expect(nodes).toEqual(expected());
  }, 120_000);

  it('measures ListTasks on the next run (the Tagging API was above the floor) and keeps the cheaper path', async () => {
    const probe = await invoke();
    expect(probe).toMatchObject({ changed: false, written: false, peerCount: 2000 });
    expect(probe.tasks).toMatchObject({ discovery: 'listTasks', tagged: 2000 });
    // ListTasks' floor: the cluster's running tasks (moto answers in one page; AWS pages at 100), DescribeTasks
    // of each 100 with their tags. The unchanged manifest costs one GetParameter and nothing else.
    expect(probe.apiCalls).toEqual({ 'ecs:ListTasks': 1, 'ecs:DescribeTasks': 20, 'ssm:GetParameter': 1 });
    const next = await invoke();
    expect(next.tasks.discovery).toBe('listTasks');
  }, 120_000);

  it('rewrites only the parts whose bytes changed, and the manifest, when one task joins', async () => {
    const before = await parts();
    const [joining] = await estate.run({ cluster: 'shop-prod', count: 1, tags: TAGS });
    const report = await invoke();
    expect(report).toMatchObject({ added: [`shop@${joining!.ip}`], removed: [], written: true });
    const after = await parts();
    const rewritten = [...after]
      .filter(([name, part]) => part.Version !== before.get(name)?.Version)
      .map(([name]) => name);
    const changed = [...after].filter(([name, part]) => part.Value !== before.get(name)?.Value).map(([name]) => name);
    expect(rewritten).toEqual(changed);
    expect(report.apiCalls['ssm:PutParameter']).toBe(changed.length + 1);
    expect((await show()).nodes).toEqual(expected());
  }, 120_000);
});
