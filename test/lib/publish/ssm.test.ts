/**
 * The SSM edge: answers without the fields the run relies on, a value written by someone else during the run,
 * TooManyUpdates, and the time left before a write.
 */
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, TooManyUpdates } from '@aws-sdk/client-ssm';
import { ConflictError, PublishError } from '../../../lib/errors.js';
import { encodePeerSet } from '../../../lib/peerSet/index.js';
import { readParameter, writeParameter } from '../../../lib/publish/index.js';
import { reconcile } from '../../../lib/reconcile.js';
import { startRun } from '../../../lib/runScope.js';
import { newClients } from '../../support/mockAws.js';
import {
  config,
  estate,
  nodesOf,
  resetStubs,
  scheduled,
  servePages,
  serveParameter,
  serveTasks,
  ssm,
} from '../../support/stubAws.js';

const NAME = config.peersParameter!;
const tasks = estate(3);

beforeEach(() => {
  resetStubs();
  servePages([...tasks.keys()], [3]);
  serveTasks(tasks);
});

const run = () =>
  reconcile(newClients(), config, scheduled).then(
    () => new Error('the run succeeded'),
    (caught: unknown) => caught as Error,
  );

/** Lets `change` run (another writer) right after the run's first GetParameter. */
const writtenMeanwhile = (stored: { value?: string; version: number }, change: () => void) => {
  let reads = 0;
  ssm.on(GetParameterCommand).callsFake(async () => {
    reads += 1;
    const answer =
      stored.value === undefined ? undefined : { Name: NAME, Value: stored.value, Version: stored.version };
    if (reads === 1) change();
    if (answer === undefined) throw new ParameterNotFound({ message: 'none', $metadata: {} });
    return { Parameter: answer };
  });
};

describe('readParameter', () => {
  it.each([
    ['no Parameter (an empty body)', {}],
    ['a Parameter without Value', { Parameter: { Name: NAME, Version: 3 } }],
    ['a Parameter without Version', { Parameter: { Name: NAME, Value: 'x' } }],
    ['another parameter', { Parameter: { Name: '/other', Value: 'x', Version: 3 } }],
  ])('fails on an answer with %s instead of reading "no parameter" and rewriting', async (_name, answer) => {
    ssm.on(GetParameterCommand).resolves(answer);
    const error = await run();
    expect(error).toBeInstanceOf(PublishError);
    expect(error.message).toMatch(
      /^ssm:GetParameter on \/ecs-peers\/shop failed \(InvalidResponseError: invalid answer/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('reads a missing parameter (ParameterNotFound) as none', async () => {
    const scope = startRun();
    await expect(readParameter(newClients().ssm, NAME, scope).finally(scope.end)).resolves.toBeUndefined();
  });
});

describe('writeParameter', () => {
  it.each([
    ['no Version (an empty body)', {}],
    ['Version 0', { Version: 0 }],
    ['a Version as text', { Version: '2' }],
  ])('fails on an answer with %s instead of reporting written', async (_name, answer) => {
    ssm.on(PutParameterCommand).resolves(answer as never);
    const error = await run();
    expect(error).toBeInstanceOf(PublishError);
    expect(error.message).toMatch(
      /^ssm:PutParameter on \/ecs-peers\/shop failed \(InvalidResponseError: invalid answer \(\/ecs-peers\/shop\): Version: /,
    );
  });

  it('refuses to overwrite a value written after the run read the parameter', async () => {
    const stored = serveParameter(encodePeerSet(['shop@10.9.9.9']), 4);
    // the CLI writes a newer discovery meanwhile
    writtenMeanwhile(stored, () => Object.assign(stored, { value: encodePeerSet(['shop@10.8.8.8']), version: 5 }));
    const error = await run();
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toBeInstanceOf(PublishError);
    expect(error.message).toMatch(
      /^ssm:PutParameter on \/ecs-peers\/shop not sent: the parameter changed during this run \(version 4 when the run started, version 5 now\)/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(stored).toMatchObject({ value: encodePeerSet(['shop@10.8.8.8']), version: 5 });
  });

  it('refuses to write when the parameter appeared during the run', async () => {
    const stored = serveParameter();
    writtenMeanwhile(stored, () => Object.assign(stored, { value: 'theirs', version: 1 }));
    expect((await run()).message).toMatch(/\(none when the run started, version 1 now\)/);
  });

  it('retries TooManyUpdates, re-reading the version before each attempt', async () => {
    const stored = serveParameter(encodePeerSet([]), 2);
    ssm
      .on(PutParameterCommand)
      .rejectsOnce(new TooManyUpdates({ message: 'concurrent updates', $metadata: {} }))
      .rejectsOnce(new TooManyUpdates({ message: 'concurrent updates', $metadata: {} }))
      .callsFake(async () => ({ Version: (stored.version += 1) }));
    const report = await reconcile(newClients(), config, scheduled);
    expect(report).toMatchObject({ written: true, version: 3 });
    expect(report.apiCalls).toMatchObject({ 'ssm:PutParameter': 3, 'ssm:GetParameter': 4 });
  });

  it('gives up after 5 TooManyUpdates with a PublishError naming it', async () => {
    ssm.on(PutParameterCommand).rejects(new TooManyUpdates({ message: 'concurrent updates', $metadata: {} }));
    const error = await run();
    expect(error.message).toBe(
      'ssm:PutParameter on /ecs-peers/shop failed (TooManyUpdates: concurrent updates); the parameter keeps its last value',
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(5);
  });

  it('counts as written an attempt whose answer was lost after SSM stored the value', async () => {
    const stored = serveParameter(encodePeerSet([]), 2);
    ssm.on(PutParameterCommand).callsFake(async (input: { Value: string }) => {
      Object.assign(stored, { value: input.Value, version: stored.version + 1 });
      throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    });
    const report = await reconcile(newClients(), config, scheduled);
    expect(report).toMatchObject({ written: true, version: 3 });
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
  });

  it('re-reads the version before a retried attempt and keeps a value written in between', async () => {
    const stored = serveParameter(encodePeerSet([]), 2);
    ssm.on(PutParameterCommand).callsFake(async () => {
      Object.assign(stored, { value: encodePeerSet(['shop@10.7.7.7']), version: 3 }); // the CLI, meanwhile
      throw Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    });
    const error = await run();
    expect(error).toBeInstanceOf(ConflictError);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    expect(stored.value).toBe(encodePeerSet(['shop@10.7.7.7']));
  });

  it('does not retry a write the client got wrong (AccessDenied)', async () => {
    ssm
      .on(PutParameterCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    expect((await run()).message).toMatch(
      /^ssm:PutParameter on \/ecs-peers\/shop failed \(AccessDeniedException: no\)/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
  });

  it('does not start a write with less than one request timeout left before the deadline', async () => {
    let clock = 0;
    const scope = startRun({ remainingMs: 10_000, now: () => clock });
    ssm.on(GetParameterCommand).callsFake(async () => {
      clock = scope.deadline - 1000; // the re-read ends 1 s before the deadline
      throw new ParameterNotFound({ message: 'none', $metadata: {} });
    });
    const writing = writeParameter(newClients().ssm, NAME, encodePeerSet(nodesOf(tasks)), 'Standard', undefined, scope);
    await expect(writing.finally(scope.end)).rejects.toThrow(
      /^ssm:PutParameter on \/ecs-peers\/shop failed \(RunDeadlineError: only 1000 ms left of the run's time budget, under the 3000 ms a write needs: not writing\)/,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});
