/**
 * How the CLI prints a reconciler report and the reconciler's configuration.
 */
import { cloudMapRow } from './cloudMap.js';
import type { HandlerResult } from '../../lib/handler.js';

const row = (name: string, value: string): void => console.log(`  ${name.padEnd(18)} ${value}`);

/** What the run did to the parameter, worded for a dry run ("would publish") or a real one. */
const outcome = (report: HandlerResult): [string, string] => {
  if (report.dryRun) {
    return [
      'would publish',
      report.changed
        ? 'yes: the set differs from the parameter (pass --write to publish it)'
        : 'no: the parameter already holds this set',
    ];
  }
  return ['changed / written', `${report.changed} / ${report.written}`];
};

/**
 * Prints a report: the peer set with `+`/`-` marks, then one row per fact.
 *
 * @param title - the heading, e.g. `first run (scheduled event)`
 * @param report - what the handler returned
 */
export const printReport = (title: string, report: HandlerResult): void => {
  console.log(`\n== ${title}`);
  console.log(`peer set (${report.nodes.length} nodes):`);
  for (const node of report.nodes) console.log(`  ${report.added.includes(node) ? '+' : ' '} ${node}`);
  for (const node of report.removed) console.log(`  - ${node}`);
  const skipped = Object.entries(report.tasks.skipped).map(([reason, count]) => `${count} ${reason}`);
  const calls = Object.entries(report.apiCalls).map(([api, count]) => `${api} ${count}`);
  const version = report.version === undefined ? '' : ` (SSM parameter version ${report.version})`;
  row('trigger', report.trigger + (report.dryRun ? ' (dry run)' : '') + (report.force ? ' (forced)' : ''));
  row(
    'tasks',
    `${report.tasks.tagged} tagged, ${report.tasks.inCluster} in cluster, skipped: ${skipped.join(', ') || 'none'}`,
  );
  row('added / removed', `${report.added.length} / ${report.removed.length}`);
  row(...outcome(report));
  if (report.parameter !== undefined) row('parameter', `${report.parameter}${version}`);
  const cloudMap = cloudMapRow(report);
  if (cloudMap) row(...cloudMap);
  row('AWS calls', calls.join(', ') || 'none');
  row('duration', `${report.durationMs} ms`);
};

/**
 * Prints the reconciler's configuration as the Lambda's environment variables, one per line, values as
 * you would set them.
 *
 * @param config - variable name to value
 */
export const printConfig = (config: Record<string, string>): void => {
  console.log('\nreconciler configuration (the Lambda environment variables):');
  const width = Math.max(...Object.keys(config).map((name) => name.length));
  for (const [name, value] of Object.entries(config)) console.log(`  ${name.padEnd(width)}  ${value}`);
};
