/**
 * Runs the fault matrix (testbed/faultCases.ts) through the built bundle on moto behind the fault proxy, and
 * prints what happened per API and in total: cases, runs that published a partial or empty set, hung runs,
 * errors that named the failed call, and the cases that broke their promise.
 *
 *   npm run bench:faults                 every case
 *   npm run bench:faults -- PutParameter only cases whose title contains this
 *   npm run bench:faults -- --bundle=PATH another build of the handler (e.g. of an older commit)
 *
 * Stale overwrites come from the race cases (test/faults/races.test.ts), which this prints when they are run
 * with --races.
 */
import { startFaultBed } from '../testbed/faultBed.js';
import { FAULT_CASES } from '../testbed/faultCases.js';
import { brokenPromises, runMatrix, type Outcome } from '../testbed/faultMatrix.js';
import { RACES, runRace, type RaceOutcome } from '../testbed/faultRaces.js';

const args = process.argv.slice(2);
const withRaces = args.includes('--races');
const filter = args.find((arg) => !arg.startsWith('--'));
const bundle = args.find((arg) => arg.startsWith('--bundle='))?.slice('--bundle='.length);
const cases = FAULT_CASES.filter((faultCase) => !filter || faultCase.id.includes(filter));

const bed = await startFaultBed(bundle ? { bundle } : {});
const started = performance.now();
try {
  console.log(`${cases.length} fault cases, built bundle ${bed.bundle}, moto ${bed.moto.endpoint}\n`);
  const outcomes = await runMatrix(bed, cases, {}, (outcome) => {
    const problems = brokenPromises(outcome);
    console.log(
      `${problems.length === 0 ? 'ok  ' : 'FAIL'} ${outcome.faultCase.id} (${outcome.ms} ms, ${outcome.stored}` +
        `${outcome.failure ? `, ${outcome.failure.name}` : ''})${problems.length ? `: ${problems.join('; ')}` : ''}`,
    );
  });
  const races: RaceOutcome[] = [];
  for (const race of withRaces ? RACES : []) races.push(await runRace(bed, race));

  const row = (label: string, group: Outcome[], stale = '') => {
    const failed = group.filter((outcome) => outcome.failure);
    return [
      label,
      String(group.length),
      String(group.filter((outcome) => outcome.stored === 'partial' || outcome.stored === 'other').length),
      String(group.filter((outcome) => outcome.stored === 'empty').length),
      String(group.filter((outcome) => outcome.hung).length),
      stale,
      `${failed.filter((outcome) => outcome.named).length} / ${failed.length}`,
      String(group.filter((outcome) => brokenPromises(outcome).length > 0).length),
      String(Math.max(0, ...group.map((outcome) => outcome.ms))),
    ];
  };
  // The total counts the races too: cases, hung runs and broken promises.
  const total = (cells: string[]) =>
    cells.map((cell, column) => {
      const extra = [
        0,
        races.length,
        0,
        0,
        races.filter((race) => race.hung).length,
        0,
        0,
        races.filter((race) => race.problems.length > 0).length,
      ][column];
      return extra ? String(Number(cell) + extra) : cell;
    });
  const groups = [...new Set(outcomes.map((outcome) => outcome.faultCase.api))];
  const staleCount = races.filter((race) => race.staleOverwrite).length;
  const rows = [
    [
      'API',
      'cases',
      'published partial',
      'published empty',
      'hung',
      'stale overwrites',
      'errors named',
      'broken promises',
      'slowest (ms)',
    ],
    ...groups.map((api) =>
      row(
        api,
        outcomes.filter((outcome) => outcome.faultCase.api === api),
      ),
    ),
    ...(withRaces
      ? [
          [
            `races`,
            String(races.length),
            '-',
            '-',
            String(races.filter((race) => race.hung).length),
            String(staleCount),
            '',
            String(races.filter((race) => race.problems.length > 0).length),
            '',
          ],
        ]
      : []),
    total(row('total', outcomes, withRaces ? String(staleCount) : '')),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(`\n${line(rows[0]!)}\n|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const cells of rows.slice(1)) console.log(line(cells));
  for (const race of races)
    console.log(
      `${race.problems.length === 0 ? 'ok  ' : 'FAIL'} race: ${race.id} (older run: ${race.a?.failure?.slice(0, 160) ?? `written ${race.a?.written}`})` +
        `${race.problems.length ? `: ${race.problems.join('; ')}` : ''}`,
    );
  console.log(`\n${Math.round((performance.now() - started) / 1000)} s in all`);
} finally {
  await bed.stop();
}
