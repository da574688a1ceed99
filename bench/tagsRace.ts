/**
 * moto's DescribeTasks tags race (testbed/tagsRace.ts) through a built handler on the ListTasks path: how many
 * runs published the full set, a partial one, or something else, and how many fell back on the Tagging API.
 *
 *   npm run bench:tags-race                     this checkout's bundle, 20 runs
 *   npm run bench:tags-race -- --runs=30        more runs
 *   npm run bench:tags-race -- --bundle=PATH    another build of the handler (e.g. of an older commit)
 */
import { startFaultBed } from '../testbed/faultBed.js';
import { runTagsRace } from '../testbed/tagsRace.js';

const args = process.argv.slice(2);
const option = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const bundle = option('bundle');
const runs = Number(option('runs') ?? 20);

const bed = await startFaultBed(bundle ? { bundle } : {});
try {
  // Every run, not only until a few met the race: the table counts what each one published.
  const done = await runTagsRace(bed, { runs, enough: runs + 1 });
  const count = (test: (run: (typeof done)[number]) => boolean) => String(done.filter(test).length);
  const rows = [
    ['bundle', 'runs', 'full', 'partial', 'other', 'failed', 'fell back on the Tagging API'],
    [
      bed.bundle,
      String(done.length),
      count((run) => run.stored === 'full'),
      count((run) => run.stored === 'partial'),
      count((run) => !['full', 'partial'].includes(run.stored)),
      count((run) => run.failure !== undefined),
      count((run) => run.fallback !== undefined),
    ],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(`${line(rows[0]!)}\n|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|\n${line(rows[1]!)}`);
} finally {
  await bed.stop();
}
