import { jest } from '@jest/globals';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC, recordReport } from '../../lib/metrics.js';
import type { Report } from '../../lib/report.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const report = (stores: Report['stores']): Report => ({
  trigger: 'schedule',
  dryRun: false,
  force: false,
  peerCount: 2,
  nodes: ['shop@10.0.0.1', 'shop@10.0.0.2'],
  added: ['shop@10.0.0.2'],
  removed: [],
  changed: true,
  written: true,
  stores,
  tasks: { tagged: 2, inCluster: 2, missing: 0, skipped: {} },
  apiCalls: { 'tag:GetResources': 1 },
  durationMs: 5,
});

const recorded = (stores: Report['stores']) => {
  const metrics = new Metrics();
  const added = jest.spyOn(metrics, 'addMetric');
  recordReport(metrics, report(stores));
  return new Map(added.mock.calls.map(([name, , value]) => [name, value]));
};

describe('recordReport', () => {
  it('says what the Cloud Map store did: a write, and how many instances it registered and deregistered', () => {
    const cloudMap = { serviceId: 'srv-a1', instances: 2, registered: ['a', 'b'], deregistered: ['c'], written: true };
    const values = recorded({ cloudMap });
    expect(values.get(METRIC.cloudMapWrites)).toBe(1);
    expect(values.get(METRIC.registered)).toBe(2);
    expect(values.get(METRIC.deregistered)).toBe(1);
    expect(values.has(METRIC.writes)).toBe(false); // no SSM store, no ParameterWrites
  });

  it('counts a dry run’s would-be registrations as none, and the SSM write on its own', () => {
    const cloudMap = { serviceId: 'srv-a1', instances: 2, registered: ['a'], deregistered: [], written: false };
    const values = recorded({ ssm: { parameter: '/ecs-peers/shop', written: true }, cloudMap });
    expect(values.get(METRIC.writes)).toBe(1);
    expect(values.get(METRIC.cloudMapWrites)).toBe(0);
    expect(values.get(METRIC.registered)).toBe(0);
  });
});
