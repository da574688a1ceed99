/**
 * template.yaml agrees with the code: the environment it sets passes the reconciler's own config validation,
 * the events it routes are triggers the code accepts, the metrics its alarms and dashboard watch are the ones
 * the code emits, and the SQS/async settings follow Lambda's rules.
 */
import { BASENAME_PATTERN } from '../../lib/constants.js';
import { loadConfig } from '../../lib/config.js';
import { METRIC } from '../../lib/metrics.js';
import { decodePeerSet, encodePeerSet } from '../../lib/peerSet/index.js';
import { classifyTrigger } from '../../lib/trigger/index.js';
import { loadTemplate, resolveStack, TEST_STACK } from '../../testbed/cfnTemplate.js';

const template = loadTemplate();
const stack = resolveStack(template);
const fn = stack.properties('ReconcileFunction');
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop-prod';

describe('the reconciler function (template.yaml ReconcileFunction)', () => {
  it('runs the esbuild bundle on Node.js 22 on arm64, built by the Makefile', () => {
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    expect(template.Resources.ReconcileFunction!.Metadata).toMatchObject({ BuildMethod: 'makefile' });
  });

  it('runs one at a time', () => {
    expect(fn.ReservedConcurrentExecutions).toBe(1);
  });

  it('sets an environment that passes the reconciler config validation', () => {
    const env = fn.Environment.Variables as Record<string, string>;
    expect(loadConfig(env)).toEqual({
      peersParameter: '/ecs-peers/shop',
      taskTags: { app: ['shop'], env: ['prod'] },
      cluster: 'shop-prod',
      nodeBasename: 'shop',
    });
    expect(env).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: TEST_STACK.stackName,
      POWERTOOLS_METRICS_NAMESPACE: 'EcsPeers',
    });
  });

  it('names the parameter /ecs-peers/STACK when PeersParameterName is empty, and the config accepts it', () => {
    const byDefault = resolveStack(template, {
      ...TEST_STACK,
      parameters: { ...TEST_STACK.parameters, PeersParameterName: '' },
    });
    const env = byDefault.properties('ReconcileFunction').Environment.Variables as Record<string, string>;
    expect(loadConfig(env).peersParameter).toBe('/ecs-peers/shop-peers');
  });

  it('validates NodeBasename with the pattern the code uses', () => {
    expect(template.Parameters.NodeBasename!.AllowedPattern).toBe(BASENAME_PATTERN.source);
  });

  it('writes its logs to the stack log group, which has a retention', () => {
    const logGroup = stack.properties('ReconcileLogGroup');
    expect(fn.LoggingConfig.LogGroup).toBe(logGroup.LogGroupName);
    expect(logGroup.LogGroupName).toBe(`/aws/lambda/${fn.FunctionName}`);
    expect(Number(logGroup.RetentionInDays)).toBeGreaterThan(0);
  });
});

describe('the triggers', () => {
  it('resyncs on a schedule whose events the code classifies as schedule runs', () => {
    expect(fn.Events.Resync).toMatchObject({ Type: 'Schedule', Properties: { Schedule: 'rate(1 minute)' } });
    expect(
      classifyTrigger({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, 'shop-prod'),
    ).toMatchObject({
      kind: 'schedule',
    });
    expect(
      classifyTrigger({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, 'shop-prod').ignored,
    ).toBeUndefined();
  });

  it('bounds async retries and sends failed async runs to the dead-letter queue', () => {
    const config = fn.EventInvokeConfig;
    expect(config.MaximumRetryAttempts).toBeLessThanOrEqual(1);
    expect(config.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(config.MaximumEventAgeInSeconds).toBeLessThanOrEqual(21600);
    expect(config.DestinationConfig.OnFailure).toEqual({ Type: 'SQS', Destination: stack.arn('DeadLetterQueue') });
  });

  it('routes this cluster task state changes to the queue, as events the code accepts', () => {
    const rule = stack.properties('TaskStateChangeRule');
    expect(rule.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [CLUSTER_ARN],
        $or: [{ lastStatus: ['RUNNING', 'STOPPED'] }, { desiredStatus: ['STOPPED'] }],
      },
    });
    expect(rule.Targets).toEqual([{ Id: 'TaskEventsQueue', Arn: stack.arn('TaskEventsQueue') }]);
    const event = {
      source: 'aws.ecs',
      'detail-type': 'ECS Task State Change',
      detail: { clusterArn: CLUSTER_ARN, lastStatus: 'RUNNING' },
    };
    const batch = { Records: [{ eventSource: 'aws:sqs', messageId: 'm1', body: JSON.stringify(event) }] };
    expect(classifyTrigger(batch, 'shop-prod')).toMatchObject({ kind: 'sqs', failedMessageIds: [] });
    expect(classifyTrigger(batch, 'shop-prod').ignored).toBeUndefined();
  });

  it('batches the queue into the function and reports partial batch failures', () => {
    expect(fn.Events.TaskEvents).toMatchObject({
      Type: 'SQS',
      Properties: {
        Queue: stack.arn('TaskEventsQueue'),
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: '20',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    });
  });

  it('keeps queue messages invisible for at least 6x the timeout plus the longest batching window', () => {
    const queue = stack.properties('TaskEventsQueue');
    const longestWindow = Number((template.Parameters.BatchingWindowSeconds as { MaxValue?: number }).MaxValue);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout + longestWindow);
  });

  it('moves messages that keep failing to the dead-letter queue after a bounded number of receives', () => {
    const { RedrivePolicy } = stack.properties('TaskEventsQueue');
    expect(RedrivePolicy.deadLetterTargetArn).toBe(stack.arn('DeadLetterQueue'));
    expect(RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(2);
    expect(RedrivePolicy.maxReceiveCount).toBeLessThanOrEqual(30);
  });

  it('keeps a message long enough for every receive before the dead-letter queue', () => {
    const queue = stack.properties('TaskEventsQueue');
    expect(queue.MessageRetentionPeriod).toBeGreaterThan(queue.RedrivePolicy.maxReceiveCount * queue.VisibilityTimeout);
  });

  it('keeps the reader policy and the function free of descriptions that change with parameters', () => {
    // A managed policy whose description changes is replaced (new ARN), leaving task roles on the old one.
    expect(stack.properties('PeersReaderPolicy').Description).not.toMatch(/ecs-peers\/shop/);
    expect(stack.properties('ReconcileFunction').Description.length).toBeLessThanOrEqual(256);
  });

  it('accepts only schedule expressions EventBridge accepts', () => {
    const pattern = new RegExp((template.Parameters.ScheduleRate as { AllowedPattern: string }).AllowedPattern);
    for (const good of ['rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'cron(0/5 * * * ? *)']) {
      expect(pattern.test(good)).toBe(true);
    }
    for (const bad of ['rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'every minute']) {
      expect(pattern.test(bad)).toBe(false);
    }
  });

  it('accepts only parameter names SSM accepts', () => {
    const pattern = new RegExp((template.Parameters.PeersParameterName as { AllowedPattern: string }).AllowedPattern);
    for (const good of ['', '/ecs-peers/shop', '/a', '/awsome-app/peers'.replace('awsome', 'my')]) {
      expect(pattern.test(good)).toBe(true);
    }
    for (const bad of ['ecs-peers/shop', '/ecs-peers/', '//x', '/aws/peers', '/SSM/peers', `/a${'/b'.repeat(15)}`]) {
      expect(pattern.test(bad)).toBe(false);
    }
  });
});

describe('the peer set parameter (template.yaml PeersParameter)', () => {
  it('starts as the empty peer set, byte for byte what the reconciler writes for no peers', () => {
    const parameter = stack.properties('PeersParameter');
    expect(parameter).toMatchObject({ Name: '/ecs-peers/shop', Type: 'String', Tier: 'Standard' });
    expect(parameter.Value).toBe(encodePeerSet([]));
    expect(decodePeerSet(parameter.Value)).toEqual([]);
  });

  it('keeps its properties when the cluster, tags, basename or schedule change, so an update never resets the value', () => {
    const changed = resolveStack(template, {
      ...TEST_STACK,
      parameters: {
        ...TEST_STACK.parameters,
        ClusterName: 'other',
        TaskTags: '{"app":"other"}',
        NodeBasename: 'other',
        ScheduleRate: 'rate(5 minutes)',
      },
    });
    expect(changed.properties('PeersParameter')).toEqual(stack.properties('PeersParameter'));
  });

  it('outputs its name and an ARN without a double slash', () => {
    const outputs = template.Outputs!;
    expect(stack.resolve(outputs.PeersParameterName!.Value)).toBe('/ecs-peers/shop');
    expect(stack.resolve(outputs.PeersParameterArn!.Value)).toBe(
      'arn:aws:ssm:eu-west-1:123456789012:parameter/ecs-peers/shop',
    );
  });
});

describe('observability', () => {
  const alarms = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([id]) => [id, stack.properties(id)] as const);
  const metricNames = new Set<string>(Object.values(METRIC));

  it('alarms only on metrics the code emits, with the stack as the service dimension', () => {
    const own = alarms.filter(([, alarm]) => alarm.Namespace === 'EcsPeers');
    expect(own.length).toBeGreaterThanOrEqual(2);
    for (const [, alarm] of own) {
      expect(metricNames).toContain(alarm.MetricName);
      expect(alarm.Dimensions).toEqual([{ Name: 'service', Value: TEST_STACK.stackName }]);
    }
  });

  it('alarms on reconcile errors, function errors, dead letters and a stale peer set', () => {
    const byMetric = Object.fromEntries(alarms.map(([, alarm]) => [`${alarm.Namespace}/${alarm.MetricName}`, alarm]));
    expect(byMetric[`EcsPeers/${METRIC.errors}`]).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(byMetric['AWS/Lambda/Errors']).toMatchObject({
      Dimensions: [{ Name: 'FunctionName', Value: fn.FunctionName }],
    });
    expect(byMetric['AWS/SQS/ApproximateNumberOfMessagesVisible']).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: 'shop-peers-DeadLetterQueue' }],
    });
    expect(byMetric[`EcsPeers/${METRIC.success}`]).toMatchObject({
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('notifies the alarm email only when one is given', () => {
    for (const [, alarm] of alarms) expect(alarm.AlarmActions).toBeUndefined();
    const withEmail = resolveStack(template, {
      ...TEST_STACK,
      parameters: { ...TEST_STACK.parameters, AlarmEmail: 'ops@example.com' },
    });
    expect(withEmail.properties('ReconcileErrorsAlarm').AlarmActions).toEqual([
      'arn:aws:sns:eu-west-1:123456789012:shop-peers-AlarmTopic',
    ]);
  });

  it('has a dashboard whose body is JSON and graphs every metric the code emits', () => {
    const body = JSON.parse(stack.properties('Dashboard').DashboardBody as string) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    const graphed = new Set(
      body.widgets.flatMap((widget) => (widget.properties.metrics ?? []).map((metric) => metric[1])),
    );
    for (const name of Object.values(METRIC)) expect(graphed).toContain(name);
    expect(graphed).toContain('ApproximateNumberOfMessagesVisible');
  });
});
