/**
 * The README's promise under faults, through the public handler of the built bundle: moto server behind a fault
 * proxy (testbed/faultProxy.ts) that breaks one API at a time, per call, in every way the matrix
 * (testbed/faultCases.ts) lists. A transient fault must end with the full peer set published; a lasting one with
 * an error naming the failed call, the parameter keeping its last good value; no case may publish a partial or
 * empty set, or run past the bound.
 */
import { startFaultBed, type FaultBed } from '../../testbed/faultBed.js';
import { FAULT_CASES, type FaultCase } from '../../testbed/faultCases.js';
import {
  fullSetOf,
  leftAfterFailure,
  LOG_EVENT_MAX_BYTES,
  runBoundMs,
  runMatrix,
  type Outcome,
} from '../../testbed/faultMatrix.js';

/** A run must answer 5 s before the function's timeout (30 s in template.yaml). */
const boundOf = (bed: FaultBed) => runBoundMs(bed);

let bed: FaultBed;
const outcomes = new Map<string, Outcome>();
const outcome = (faultCase: FaultCase): Outcome => {
  const found = outcomes.get(faultCase.id);
  if (!found) throw new Error(`no outcome for ${faultCase.id}: the matrix did not run`);
  return found;
};
/** What a failed expectation prints, so the table's row can be read without rerunning it. */
const summary = (found: Outcome) => ({
  stored: found.stored,
  ms: found.ms,
  failure: found.failure,
  result: found.result && { written: found.result.written, peerCount: found.result.peerCount },
  awsCalls: found.awsCalls,
});

beforeAll(async () => {
  bed = await startFaultBed();
  for (const found of await runMatrix(bed, FAULT_CASES, { boundMs: boundOf(bed) })) {
    outcomes.set(found.faultCase.id, found);
  }
}, 900_000);

afterAll(async () => {
  await bed?.stop();
});

const byPromise = (promise: FaultCase['expect']) => FAULT_CASES.filter((faultCase) => faultCase.expect === promise);

describe('a transient fault is ridden out: the full set is published', () => {
  it.each(byPromise('full'))('$id', (faultCase) => {
    const found = outcome(faultCase);
    expect(summary(found)).toMatchObject({ stored: 'full' });
    expect(found.failure).toBeUndefined();
    expect(found.result?.peerCount).toBe(fullSetOf(bed, faultCase).length);
    if (faultCase.discovery) expect(found.result?.tasks.discovery).toBe(faultCase.discovery);
    if (faultCase.discovery && faultCase.discovery !== faultCase.env?.DISCOVERY_PATH) {
      // A run that left its path says so, and why, in a warning and in its report.
      expect(found.output).toMatch(/"level":"WARN".*discovery took the other path/);
      expect(found.result?.tasks.fallback).toMatch(/described without the tags asked for/);
    }
    expect(found.hung).toBe(false);
    expect(found.ms).toBeLessThan(boundOf(bed));
    if (faultCase.boundedLogs) {
      expect(found.longestLogLine).toBeLessThanOrEqual(LOG_EVENT_MAX_BYTES);
      // The capped warning still says how many messages were bad (all but the first).
      const bad = (faultCase.event as { Records: unknown[] }).Records.length - 1;
      const warnings = found.output.split('\n').filter((line) => line.includes('"level":"WARN"'));
      expect(warnings.some((line) => line.includes(String(bad)))).toBe(true);
    }
  });
});

describe('a lasting fault or bad data fails the run, naming it; the parameter keeps its last good value', () => {
  it.each(byPromise('nothing'))('$id', (faultCase) => {
    const found = outcome(faultCase);
    // Cloud Map writes one instance at a time: a failed registration may leave peers added, never one removed.
    expect(leftAfterFailure(faultCase)).toContain(found.stored);
    expect(summary(found)).toMatchObject({ failure: { message: expect.stringMatching(faultCase.error!) } });
    expect(found.hung).toBe(false);
    expect(found.ms).toBeLessThan(boundOf(bed));
    if (faultCase.api !== 'config') {
      // The invocation ran: its error log line names the call and the ReconcileErrors metric counts it.
      expect(found.logged).toBe(true);
      expect(found.errorMetric).toBe(true);
    }
  });
});

describe('a fault after which AWS may have acted leaves the full set or the last good one, never a part', () => {
  it.each(byPromise('full-or-nothing'))('$id', (faultCase) => {
    const found = outcome(faultCase);
    expect(['full', ...leftAfterFailure(faultCase)]).toContain(found.stored);
    if (found.failure) expect(found.failure.message).toMatch(faultCase.error!);
    expect(found.hung).toBe(false);
    expect(found.ms).toBeLessThan(boundOf(bed));
  });
});

describe('an event of a foreign cluster is ignored without any AWS call', () => {
  it.each(byPromise('ignored'))('$id', (faultCase) => {
    const found = outcome(faultCase);
    expect(summary(found)).toMatchObject({ stored: 'unchanged', awsCalls: {} });
    expect(found.failure).toBeUndefined();
    expect(found.result?.ignored).toEqual(expect.any(String));
  });
});

describe('the matrix', () => {
  it('covers every API a run calls, each with every transport fault, in 60 cases or more', () => {
    expect(FAULT_CASES.length).toBeGreaterThanOrEqual(60);
    const apis = ['GetResources', 'DescribeTasks', 'GetParameter', 'PutParameter'];
    for (const api of [...apis, 'ListInstances', 'RegisterInstance', 'DeregisterInstance']) {
      const titles = FAULT_CASES.filter((faultCase) => faultCase.api === api).map((faultCase) => faultCase.id);
      for (const fault of ['throttled', '503', 'stalls', 'reset', 'truncated', '{}', 'empty 200 body']) {
        expect(titles.some((title) => title.includes(fault))).toBe(true);
      }
    }
    expect(new Set(FAULT_CASES.map((faultCase) => faultCase.id)).size).toBe(FAULT_CASES.length);
  });

  it("meets every case's fault on at least one call (no case passes for want of its fault)", () => {
    const missed = [...outcomes.values()].filter((found) => found.faultCase.rules().length > 0 && found.faulted === 0);
    expect(missed.map((found) => found.faultCase.id)).toEqual([]);
  });

  it('never publishes a partial or empty set, whatever the case', () => {
    const bad = [...outcomes.values()].filter((found) => ['partial', 'empty', 'other'].includes(found.stored));
    expect(bad.map((found) => `${found.faultCase.id}: ${found.stored}`)).toEqual([]);
  });
});
