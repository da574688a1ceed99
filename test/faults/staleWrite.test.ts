/**
 * The write's own window, through the built bundle's handler (moto behind a fault proxy, one process per
 * invocation): the version re-read just before the write answered late, after a newer value was written, middy's abort signal
 * reaching a run whose own budget has time left, and every transport and answer fault on that re-read
 * (GetParameter call 2).
 */
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { encodePeerSet } from '../../lib/peerSet/index.js';
import { CLUSTER, LAST_GOOD, REGION, SCHEDULED, startFaultBed, TAGS, type FaultBed } from '../../testbed/faultBed.js';
import type { FaultCase } from '../../testbed/faultCases.js';
import { brokenPromises, runCase } from '../../testbed/faultMatrix.js';
import type { Fault } from '../../testbed/faultProxy.js';

let bed: FaultBed;
let clusters = 0;

beforeAll(async () => {
  bed = await startFaultBed({ estate: [{ cluster: CLUSTER, count: 6, tags: TAGS }] });
}, 180_000);

afterAll(async () => {
  await bed?.stop();
});

const until = async (what: string, ready: () => boolean, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/** A cluster of four peers of its own, a parameter holding LAST_GOOD, and the environment for an endpoint. */
const arena = async () => {
  clusters += 1;
  const cluster = `stale-${process.pid}-${clusters}`;
  const [leaving] = await bed.estate.run({ cluster, count: 4, tags: TAGS });
  const parameter = await bed.newParameter();
  const env = (endpoint: string) => bed.functionEnv(parameter, endpoint, { ECS_CLUSTER: cluster });
  /** A task leaves and another joins: the set a newer run publishes differs from the older one's. */
  const change = async () => {
    await bed.estate.stop(leaving!);
    await bed.estate.run({ cluster, count: 1, tags: TAGS });
    return bed.estate.peers(cluster, TAGS);
  };
  return { cluster, parameter, env, change, older: bed.estate.peers(cluster, TAGS) };
};

describe('the version re-read just before the write', () => {
  it('answered late, after a newer value was written: the run re-reads again, sees it and does not write', async () => {
    const { parameter, env, change, older } = await arena();
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const proxyA = await bed.proxy([{ api: 'GetParameter', calls: [2], fault: { kind: 'hold', release: released } }]);
    const ssm = new SSMClient({
      endpoint: bed.moto.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const a = bed.invoke(SCHEDULED, env(proxyA.endpoint), { timeoutMs: 90_000, killAfterMs: 120_000 });
    try {
      // Moto has answered A's re-read (version 1); the answer is held while the newer set is written. The hold
      // stays well under the 3 s request timeout, so A gets this old answer, late, rather than a retry's.
      await until('A reaching its re-read', () => proxyA.held('GetParameter') >= 1);
      const heldAt = Date.now();
      const newer = await change();
      await ssm.send(
        new PutParameterCommand({ Name: parameter, Value: encodePeerSet(newer), Type: 'String', Overwrite: true }),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 800 - (Date.now() - heldAt))));
      release();
      const ended = await a.exited;

      expect(ended.failure).toMatchObject({ name: 'ConflictError' });
      expect(ended.failure?.message).toMatch(/version 1 when the run started, version 2 now/);
      expect(proxyA.count('PutParameter')).toBe(0);
      expect(proxyA.count('GetParameter')).toBe(3); // the first read, the late re-read, the re-read redone
      const stored = (await bed.read(parameter)).value;
      expect(stored).toBe(encodePeerSet(newer));
      expect(stored).not.toBe(encodePeerSet(older));
    } finally {
      release();
      a.kill();
      ssm.destroy();
      await proxyA.stop();
    }
  }, 240_000);
});

describe("middy's abort signal", () => {
  it('stops the run when middy times the invocation out before the run budget ends: nothing is written', async () => {
    const { parameter, env } = await arena();
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const proxy = await bed.proxy([{ api: 'DescribeTasks', calls: { from: 1 }, fault: { kind: 'hold', release: released } }]);
    // The run reads 120 s left (a budget of 72 s); middy, reading next, sees 8 s and fires its early timeout.
    const a = bed.invoke(SCHEDULED, env(proxy.endpoint), {
      timeoutMs: 120_000,
      laterRemainingMs: 8_000,
      killAfterMs: 150_000,
    });
    try {
      const answer = await a.answered;
      expect(answer.failure?.message).toMatch(/AbortError/); // middy's timeoutEarlyResponse
      release(); // what A was waiting for arrives after its invocation ended
      const ended = await a.exited;

      const errors = ended.logs.filter((line) => line.level === 'ERROR').map((line) => JSON.stringify(line));
      expect(errors.join('\n')).toMatch(/InvocationEndedError/);
      expect(errors.join('\n')).not.toMatch(/RunDeadlineError/);
      expect(proxy.count('PutParameter')).toBe(0);
      expect(proxy.count('GetParameter')).toBe(1); // the first read only: no re-read, no write
      expect((await bed.read(parameter)).value).toBe(encodePeerSet(LAST_GOOD));
    } finally {
      release();
      a.kill();
      await proxy.stop();
    }
  }, 240_000);
});

/** Faults on the re-read (GetParameter call 2), once or from then on. */
const REREAD: { label: string; fault: Fault; from?: true; expect: FaultCase['expect']; error?: RegExp }[] = [
  { label: 'throttled once', fault: { kind: 'throttle' }, expect: 'full' },
  { label: 'throttled from then on', fault: { kind: 'throttle' }, from: true, expect: 'nothing' },
  { label: '500 once', fault: { kind: 'status', status: 500 }, expect: 'full' },
  { label: '503 from then on', fault: { kind: 'status', status: 503 }, from: true, expect: 'nothing' },
  { label: 'stalls once', fault: { kind: 'stall' }, expect: 'full' },
  {
    label: 'stalls from then on',
    fault: { kind: 'stall' },
    from: true,
    expect: 'nothing',
    error: /ssm:GetParameter .*(TimeoutError|RunDeadlineError)/,
  },
  { label: 'connection reset once', fault: { kind: 'reset' }, expect: 'full' },
  { label: 'connection reset from then on', fault: { kind: 'reset' }, from: true, expect: 'nothing' },
  { label: 'body truncated once', fault: { kind: 'truncate' }, expect: 'full' },
  { label: 'body truncated from then on', fault: { kind: 'truncate' }, from: true, expect: 'nothing' },
  {
    label: 'answers {}',
    fault: { kind: 'body', body: '{}' },
    expect: 'nothing',
    error: /ssm:GetParameter on \S+ failed \(InvalidResponseError/,
  },
  {
    label: 'answers an empty 200 body',
    fault: { kind: 'body', body: '' },
    expect: 'nothing',
    error: /ssm:GetParameter on \S+ failed \(InvalidResponseError/,
  },
  {
    label: 'answers a newer version (someone wrote since the first read)',
    fault: {
      kind: 'rewrite',
      rewrite: (answer) => ({
        ...answer,
        Parameter: { ...answer.Parameter, Value: '{"version":1,"nodes":[]}', Version: answer.Parameter.Version + 1 },
      }),
    },
    expect: 'nothing',
    error: /ConflictError|not sent: the parameter changed during this run/,
  },
];

const REREAD_CASES: FaultCase[] = REREAD.map((kind) => ({
  id: `GetParameter re-read (call 2): ${kind.label}`,
  api: 'GetParameter',
  rules: () => [{ api: 'GetParameter', calls: kind.from ? { from: 2 } : [2], fault: kind.fault }],
  expect: kind.expect,
  error: kind.error ?? /ssm:GetParameter/,
}));

describe('faults on the version re-read', () => {
  it.each(REREAD_CASES)(
    '$id',
    async (faultCase) => {
      const outcome = await runCase(bed, faultCase);
      const seen = { stored: outcome.stored, failure: outcome.failure, awsCalls: outcome.awsCalls };
      expect({ ...seen, problems: brokenPromises(outcome) }).toMatchObject({ problems: [] });
      if (faultCase.expect === 'nothing') {
        expect(seen).toMatchObject({ stored: 'unchanged' });
        expect(outcome.awsCalls.PutParameter ?? 0).toBe(0);
        expect(outcome.logged).toBe(true);
        expect(outcome.errorMetric).toBe(true);
      } else {
        expect(seen).toMatchObject({ stored: 'full' });
      }
    },
    120_000,
  );
});
