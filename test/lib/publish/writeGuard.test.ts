/**
 * The write's guard against stale overwrites, as strong as SSM allows without compare-and-swap: create with
 * Overwrite false, redo a slow re-read, detect a put whose version shows another writer in between, and never
 * count our own late attempt as someone else's.
 */
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { ConflictError, OverwriteRaceError, RunEndedError } from '../../../lib/errors.js';
import { writeParameter } from '../../../lib/publish/index.js';
import { awsCall, startRun } from '../../../lib/runScope.js';
import { awsError, newClients } from '../../support/mockAws.js';
import { resetStubs, ssm } from '../../support/stubAws.js';

const NAME = '/ecs-peers/shop';
const OURS = '{"version":1,"nodes":["shop@10.0.0.1"]}';
const THEIRS = '{"version":1,"nodes":["shop@10.0.0.2"]}';

beforeEach(resetStubs);

const found = (value: string, version: number) => ({ Parameter: { Name: NAME, Value: value, Version: version } });
const notFound = () => new ParameterNotFound({ message: 'none', $metadata: {} });

/** Serves GetParameter answers in order (the last one again after that); a function answer throws its error. */
const serveReads = (...answers: (ReturnType<typeof found> | (() => Error))[]) => {
  let reads = 0;
  ssm.on(GetParameterCommand).callsFake(async () => {
    const answer = answers[Math.min(reads, answers.length - 1)]!;
    reads += 1;
    if (typeof answer === 'function') throw answer();
    return answer;
  });
};

const write = (readVersion: number | undefined, scope = startRun({ remainingMs: 60_000 })) =>
  writeParameter(newClients().ssm, NAME, OURS, 'Standard', readVersion, scope).finally(scope.end);

describe('writeParameter creating the parameter', () => {
  it('sends Overwrite false, so that SSM itself refuses if someone created the parameter meanwhile', async () => {
    serveReads(notFound);
    ssm.on(PutParameterCommand).resolves({ Version: 1 });

    await expect(write(undefined)).resolves.toBe(1);
    expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input).toMatchObject({ Overwrite: false });
  });

  it('keeps the value another writer created between the re-read and the put (ParameterAlreadyExists)', async () => {
    serveReads(notFound, found(THEIRS, 1));
    ssm.on(PutParameterCommand).rejects(new ParameterAlreadyExists({ message: 'exists', $metadata: {} }));

    const error = await write(undefined).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/none when the run started, version 1 now/);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
  });

  it('counts as written when ParameterAlreadyExists came from our own earlier attempt', async () => {
    serveReads(notFound, notFound, found(OURS, 1));
    ssm
      .on(PutParameterCommand)
      .rejectsOnce(awsError('TimeoutError', 'socket hang up', 'server'))
      .rejects(new ParameterAlreadyExists({ message: 'exists', $metadata: {} }));

    await expect(write(undefined)).resolves.toBe(1);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(2);
  });
});

describe('writeParameter updating the parameter', () => {
  it('sends Overwrite true with the version it read unchanged', async () => {
    serveReads(found(THEIRS, 4));
    ssm.on(PutParameterCommand).resolves({ Version: 5 });

    await expect(write(4)).resolves.toBe(5);
    expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input).toMatchObject({ Overwrite: true });
  });

  it('fails with OverwriteRaceError when the put version shows another writer between the re-read and the put', async () => {
    serveReads(found(THEIRS, 4));
    ssm.on(PutParameterCommand).resolves({ Version: 6 }); // version 5 was someone else's

    const error = await write(4).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OverwriteRaceError);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(
      /^ssm:PutParameter on \/ecs-peers\/shop raced another writer: the put stored version 6, but the re-read just before it saw version 4/,
    );
  });

  it('does not call its own timed-out attempt, landed late, another writer', async () => {
    serveReads(found(THEIRS, 4)); // the re-read before attempt 2 does not see attempt 1 yet
    ssm
      .on(PutParameterCommand)
      .rejectsOnce(awsError('TimeoutError', 'timed out', 'server'))
      .resolves({ Version: 6 }); // attempt 1 landed late as version 5

    await expect(write(4)).resolves.toBe(6);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(2);
  });

  it('after a throttled attempt (SSM answered: nothing stored), a version gap is another writer', async () => {
    serveReads(found(THEIRS, 4));
    ssm
      .on(PutParameterCommand)
      .rejectsOnce(awsError('TooManyUpdates', 'too many updates'))
      .resolves({ Version: 6 });

    await expect(write(4)).rejects.toBeInstanceOf(OverwriteRaceError);
  });

  it('redoes a re-read that took longer than FRESH_READ_MS before it writes', async () => {
    let clock = 0;
    const scope = startRun({ remainingMs: 60_000, now: () => clock });
    let reads = 0;
    ssm.on(GetParameterCommand).callsFake(async () => {
      reads += 1;
      if (reads === 1) clock += 2_000; // the first re-read answers 2 s after it was sent
      return found(THEIRS, 4);
    });
    ssm.on(PutParameterCommand).resolves({ Version: 5 });

    await expect(write(4, scope)).resolves.toBe(5);
    expect(reads).toBe(2);
  });

  it('writes after FRESH_READ_ATTEMPTS slow re-reads rather than never (the put version still shows a race)', async () => {
    let clock = 0;
    const scope = startRun({ remainingMs: 600_000, now: () => clock });
    let reads = 0;
    ssm.on(GetParameterCommand).callsFake(async () => {
      reads += 1;
      clock += 2_000;
      return found(THEIRS, 4);
    });
    ssm.on(PutParameterCommand).resolves({ Version: 5 });

    await expect(write(4, scope)).resolves.toBe(5);
    expect(reads).toBe(3);
  });
});

describe('runScope end()', () => {
  it('stops a call still in flight when the run has ended', async () => {
    const scope = startRun({ remainingMs: 60_000 });
    let sawAbort = false;
    const inFlight = awsCall(
      scope,
      'ecs:DescribeTasks',
      (abortSignal) =>
        new Promise<never>((_resolve, reject) => {
          abortSignal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('aborted by the SDK'));
          });
        }),
    );
    scope.end();

    await expect(inFlight).rejects.toBeInstanceOf(RunEndedError);
    expect(sawAbort).toBe(true);
    expect(scope.signal.reason).toBeInstanceOf(RunEndedError);
  });
});
