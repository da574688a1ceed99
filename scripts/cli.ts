/**
 * ecs-peers command line.
 *
 *   demo   start moto server on loopback, seed a demo ECS estate, run the built reconciler against it, start a
 *          BEAM node per published task that connects to the others, then stop a task, start another and
 *          run again, printing the peer set, what changed and who is connected to whom.
 *   run    run the built reconciler once against real AWS with your credentials: a dry run unless --write.
 *   show   print the peer set a parameter publishes, decoded and checked as a node reads it.
 *
 * demo and run import dist/reconcile/index.mjs (`npm run build`), the same bundle the Lambda runs.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { context, DEFAULT_BUNDLE, loadHandler } from './cli/bundle.js';
import { demo } from './cli/demo.js';
import { hintFor } from './cli/hints.js';
import { printReport } from './cli/report.js';
import { show } from './show.js';

const USAGE = `usage: npm run cli -- COMMAND [OPTIONS]

commands:
  demo     the reconciler on moto server (a local AWS stand-in), then a BEAM cluster that reads what it
           published (needs root for the network namespaces; otherwise only the reconciler part runs)
             --cluster       fail unless the cluster part can run     --no-cluster   skip the cluster part
             --cloud-map     publish to a Cloud Map service too, and show what a node discovers there
  run      one run against the AWS account of your credentials (AWS_PROFILE, AWS_REGION, ...):
           a dry run that writes nothing unless --write
             --parameter NAME   the SSM parameter, e.g. /ecs-peers/shop          (required)
             --tags JSON        the tasks' tags, e.g. '{"app":"shop"}'           (required)
             --basename NAME    node name part before @, e.g. shop               (required)
             --cluster NAME     only tasks of this ECS cluster
             --write            publish the set          --force   write even if unchanged
  show     the peer set a parameter publishes, decoded and checked as a node reads it (your credentials)
             --parameter NAME   the SSM parameter                               (required)
  help     this text (also --help, -h)

options of both: --verbose (the reconciler's log lines), --bundle PATH (another build than dist/reconcile/index.mjs)

examples:
  npm start                                   the demo (npm run build, then npm run cli -- demo)
  AWS_PROFILE=prod AWS_REGION=eu-west-1 npm run cli -- run --parameter /ecs-peers/shop --tags '{"app":"shop"}' --basename shop`;

/** A mistake on the command line: printed with the usage, exit code 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

const OPTIONS = {
  parameter: { type: 'string' },
  tags: { type: 'string' },
  cluster: { type: 'string' },
  'no-cluster': { type: 'boolean' },
  'cloud-map': { type: 'boolean' },
  basename: { type: 'string' },
  write: { type: 'boolean' },
  force: { type: 'boolean' },
  verbose: { type: 'boolean' },
  bundle: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const parse = (args: string[]) => {
  // `demo --cluster` is a flag, `run --cluster NAME` a value: give the flag a value parseArgs accepts.
  const argv = args[0] === 'demo' ? args.map((arg) => (arg === '--cluster' ? '--cluster=required' : arg)) : args;
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError(
      error instanceof Error ? error.message.replace(/\. To specify a positional.*/s, '') : String(error),
    );
  }
};

const bundleOf = (values: Values): string =>
  values.bundle === undefined ? DEFAULT_BUNDLE : path.resolve(values.bundle);

const runOnce = async (values: Values): Promise<void> => {
  const missing = (['parameter', 'tags', 'basename'] as const).filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new UsageError(`run needs --${missing.join(', --')}`);
  const handler = await loadHandler(
    {
      PEERS_PARAMETER: values.parameter!,
      TASK_TAGS: values.tags!,
      NODE_BASENAME: values.basename!,
      ...(values.cluster === undefined ? {} : { ECS_CLUSTER: values.cluster }),
    },
    values.verbose === true,
    bundleOf(values),
  );
  const write = values.write === true;
  const report = await withHint(() => handler({ dryRun: !write, force: values.force === true }, context));
  printReport(write ? 'run' : 'dry run: nothing written (pass --write to publish)', report);
};

/** Runs an AWS-facing command; an error with a known fix (no Region, no credentials, ...) gets it appended. */
const withHint = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    const hint = hintFor(error);
    if (hint === undefined) throw error;
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n  fix: ${hint}`, { cause: error });
  }
};

const main = async (args: string[]): Promise<void> => {
  const { positionals, values } = parse(args);
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === 'demo') {
    const cluster = values['no-cluster'] ? false : values.cluster === undefined ? undefined : true;
    await demo({ verbose: values.verbose === true, cluster, cloudMap: values['cloud-map'] === true });
  } else if (command === 'run') await runOnce(values);
  else if (command === 'show') {
    if (values.parameter === undefined) throw new UsageError('show needs --parameter NAME');
    process.exitCode = (await withHint(() => show(values.parameter))) ? 0 : 1;
  } else throw new UsageError(`unknown command ${command}`);
};

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`ecs-peers: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  console.error(`ecs-peers: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
