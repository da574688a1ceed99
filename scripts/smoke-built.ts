/**
 * Smoke test of a built Lambda artifact (what `sam build` or `npm run build` produced): runs its handler in fresh
 * Node.js processes, configured with the environment template.yaml gives the function, against moto server with
 * the demo estate, and checks the reports. Exits non-zero on any mismatch.
 *
 *   tsx scripts/smoke-built.ts .aws-sam/build/ReconcileFunction/index.mjs
 */
import { existsSync } from 'node:fs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { encodePeerSet } from '../lib/peerSet/index.js';
import { loadTemplate, resolveStack, TEST_STACK } from '../testbed/cfnTemplate.js';
import { DEMO_ESTATE, seedEstate } from '../testbed/seedEstate.js';
import { startMoto } from '../testbed/motoServer.js';
import { assertNode22, invokeBuilt, type BuiltRun } from '../testbed/builtBundle.js';

const REGION = 'us-east-1';
const CLUSTER = 'shop-prod';
const TAGS = { app: 'shop', env: 'prod' };

const artifact = process.argv[2];
if (!artifact || !existsSync(artifact)) {
  console.error(`usage: tsx scripts/smoke-built.ts BUILT/index.mjs (got ${artifact ?? 'nothing'}: no such file)`);
  process.exit(2);
}
assertNode22();

const stack = resolveStack(loadTemplate(), {
  ...TEST_STACK,
  region: REGION,
  parameters: {
    ClusterName: CLUSTER,
    TaskTags: JSON.stringify(TAGS),
    NodeBasename: 'shop',
    PeersParameterName: '/ecs-peers/shop',
  },
});
const functionEnv = stack.properties('ReconcileFunction').Environment.Variables as Record<string, string>;
const parameter = stack.properties('PeersParameter');

const moto = await startMoto();
const failures: string[] = [];
const check = (what: string, ok: boolean, detail: unknown) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : `: ${JSON.stringify(detail)}`}`);
  if (!ok) failures.push(what);
};

try {
  const aws = {
    endpoint: moto.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const estate = await seedEstate(new ECSClient(aws), new EC2Client(aws), DEMO_ESTATE);
  const ssm = new SSMClient(aws);
  await ssm.send(
    new PutParameterCommand({
      Name: parameter.Name,
      Value: parameter.Value,
      Type: parameter.Type,
      Tier: parameter.Tier,
    }),
  );
  const expected = estate.peers(CLUSTER, TAGS);

  const env = {
    ...functionEnv,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_LAMBDA_FUNCTION_NAME: 'shop-peers-reconcile',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const invoke = async (title: string, event: unknown): Promise<BuiltRun> => {
    const run = await invokeBuilt(artifact, event, env);
    if (run.failure) console.log(run.output);
    check(`${title}: the handler returned`, run.failure === undefined, run.failure);
    return run;
  };

  console.log(`artifact ${artifact}, moto ${moto.endpoint}, ${expected.length} expected peers`);
  const first = await invoke('scheduled run', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
  check(
    'scheduled run: publishes the running tagged tasks of the cluster',
    JSON.stringify(first.result?.nodes) === JSON.stringify(expected),
    first.result?.nodes,
  );
  check('scheduled run: writes the parameter', first.result?.written === true, first.result);
  const stored = (await ssm.send(new GetParameterCommand({ Name: parameter.Name }))).Parameter?.Value;
  check('the parameter holds the peer set', stored === encodePeerSet(expected), stored);

  const dry = await invoke('manual dry run', { dryRun: true });
  check(
    'manual dry run: same set, nothing written',
    dry.result?.written === false && dry.result?.nodes.length === expected.length,
    dry.result,
  );

  const taskEvent = {
    source: 'aws.ecs',
    'detail-type': 'ECS Task State Change',
    detail: { clusterArn: `arn:aws:ecs:${REGION}:123456789012:cluster/${CLUSTER}`, lastStatus: 'RUNNING' },
  };
  const batch = await invoke('SQS batch', {
    Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body: JSON.stringify(taskEvent) }],
  });
  check(
    'SQS batch: unchanged set, no write, no failed messages',
    batch.result?.written === false && batch.result?.batchItemFailures?.length === 0,
    batch.result,
  );
  check(
    'logs one report line per run',
    first.logs.some((line) => line.message === 'reconciled: parameter written'),
    first.logs,
  );
} finally {
  await moto.stop();
}

if (failures.length > 0) {
  console.error(`smoke-built: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('smoke-built: the built artifact works');
