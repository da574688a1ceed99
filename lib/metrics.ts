import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Report } from './report.js';

/** Metric names, shared with the template's alarms and dashboard. */
export const METRIC = {
  peers: 'Peers',
  added: 'PeersAdded',
  removed: 'PeersRemoved',
  writes: 'ParameterWrites',
  cloudMapWrites: 'CloudMapWrites',
  registered: 'InstancesRegistered',
  deregistered: 'InstancesDeregistered',
  success: 'ReconcileSuccess',
  errors: 'ReconcileErrors',
  duration: 'ReconcileDuration',
  apiCalls: 'AwsApiCalls',
  ignored: 'IgnoredTriggers',
} as const;

/**
 * Records a finished run's figures as EMF metrics.
 *
 * @param metrics - Powertools Metrics, flushed by its middleware
 * @param report - the run's report
 */
export const recordReport = (metrics: Metrics, report: Report): void => {
  metrics.addMetric(METRIC.peers, MetricUnit.Count, report.nodes.length);
  metrics.addMetric(METRIC.added, MetricUnit.Count, report.added.length);
  metrics.addMetric(METRIC.removed, MetricUnit.Count, report.removed.length);
  if (report.stores.ssm) metrics.addMetric(METRIC.writes, MetricUnit.Count, report.stores.ssm.written ? 1 : 0);
  const { cloudMap } = report.stores;
  if (cloudMap) {
    metrics.addMetric(METRIC.cloudMapWrites, MetricUnit.Count, cloudMap.written ? 1 : 0);
    metrics.addMetric(METRIC.registered, MetricUnit.Count, cloudMap.written ? cloudMap.registered.length : 0);
    metrics.addMetric(METRIC.deregistered, MetricUnit.Count, cloudMap.written ? cloudMap.deregistered.length : 0);
  }
  metrics.addMetric(METRIC.success, MetricUnit.Count, 1);
  metrics.addMetric(METRIC.duration, MetricUnit.Milliseconds, report.durationMs);
  const calls = Object.values(report.apiCalls).reduce((sum, count) => sum + count, 0);
  metrics.addMetric(METRIC.apiCalls, MetricUnit.Count, calls);
};

/**
 * Records a failed run.
 *
 * @param metrics - Powertools Metrics, flushed by its middleware
 */
export const recordError = (metrics: Metrics): void => {
  metrics.addMetric(METRIC.errors, MetricUnit.Count, 1);
};

/**
 * Records an invocation that needed no run (a task event of another cluster).
 *
 * @param metrics - Powertools Metrics, flushed by its middleware
 */
export const recordIgnored = (metrics: Metrics): void => {
  metrics.addMetric(METRIC.ignored, MetricUnit.Count, 1);
};
