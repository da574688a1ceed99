import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type ParameterTier,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { checkAnswer } from '../answer.js';
import {
  FRESH_READ_ATTEMPTS,
  FRESH_READ_MS,
  PUT_PARAMETER_BACKOFF_MAX_MS,
  PUT_PARAMETER_BACKOFF_MS,
  PUT_PARAMETER_MAX_ATTEMPTS,
  WRITE_MIN_REMAINING_MS,
} from '../constants.js';
import { ConflictError, InvalidResponseError, OverwriteRaceError, PublishError, RunDeadlineError } from '../errors.js';
import { abortReason, awsCall, pause, type RunScope } from '../runScope.js';
import { isRetryable, withoutSdkRetries } from './retry.js';

/** A parameter's value as SSM holds it now. */
export interface StoredValue {
  value: string;
  version: number;
}

const version = z.int().check(z.minimum(1));
// A GetParameter answer without Parameter is not "no parameter" (that is the ParameterNotFound error).
const getAnswer = (name: string) =>
  z.object({ Parameter: z.object({ Name: z.literal(name), Value: z.string(), Version: version }) });
// Without Version nothing confirms that the write was stored.
const putAnswer = z.object({ Version: version });

/**
 * Reads the parameter.
 *
 * @param client - SSM client
 * @param name - parameter name
 * @param scope - the run's scope (signal, deadline, call counters)
 * @returns the value and version, or undefined when the parameter does not exist yet
 * @throws PublishError when the read fails or the answer lacks the parameter's name, value or version
 */
export const readParameter = async (
  client: SSMClient,
  name: string,
  scope: RunScope,
): Promise<StoredValue | undefined> => {
  try {
    const answer = await awsCall(scope, 'ssm:GetParameter', (abortSignal) =>
      client.send(new GetParameterCommand({ Name: name }), { abortSignal }),
    );
    const { Parameter } = checkAnswer(getAnswer(name), answer, name);
    return { value: Parameter!.Value!, version: Parameter!.Version! };
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw new PublishError('ssm:GetParameter', name, { cause: error });
  }
};

/** Refuses to start a write the run might not finish before its deadline (or after its invocation ended). */
const requireTimeToWrite = (scope: RunScope, name: string): void => {
  if (scope.signal.aborted) throw new PublishError('ssm:PutParameter', name, { cause: abortReason(scope) });
  const left = scope.deadline - scope.now();
  if (left < WRITE_MIN_REMAINING_MS) {
    const cause = new RunDeadlineError(
      `only ${Math.max(0, Math.round(left))} ms left of the run's time budget, under the ${WRITE_MIN_REMAINING_MS} ms ` +
        'a write needs: not writing',
    );
    throw new PublishError('ssm:PutParameter', name, { cause });
  }
};

/**
 * The version re-read before a write: a read slower than FRESH_READ_MS is redone (FRESH_READ_ATTEMPTS in all),
 * as its answer may be that much older than the put that follows it.
 */
const freshRead = async (client: SSMClient, name: string, scope: RunScope): Promise<StoredValue | undefined> => {
  for (let read = 1; ; read += 1) {
    const started = scope.now();
    const stored = await readParameter(client, name, scope);
    if (scope.now() - started <= FRESH_READ_MS || read >= FRESH_READ_ATTEMPTS) return stored;
  }
};

/** Whether a failed put attempt may still have been stored: only a 4xx answer says for sure that it was not. */
const mayHaveLanded = (error: unknown): boolean => {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  return !(status >= 400 && status < 500);
};

/** Full-jitter exponential backoff before write attempt `attempt + 1`. */
const backoff = (attempt: number): number =>
  Math.random() * Math.min(PUT_PARAMETER_BACKOFF_MAX_MS, PUT_PARAMETER_BACKOFF_MS * 2 ** (attempt - 1));

/**
 * Overwrites the parameter with a new value, in the tier the value needs, unless someone else changed it since
 * the run read it. SSM has no compare-and-swap, so the guard is built from what it has:
 * - Immediately before each attempt the stored version is read again (redone when slower than FRESH_READ_MS): a
 *   different version means someone published after this run's read, and their value is kept (ConflictError).
 * - A parameter that did not exist is created with `Overwrite: false`, which SSM refuses atomically when someone
 *   created it meanwhile (ParameterAlreadyExists): the next re-read tells whether that was an earlier attempt of
 *   ours or another writer.
 * - SSM's answer is checked: a version above the re-read one plus one means another writer stored a value between
 *   the re-read and the put, and this run overwrote it (OverwriteRaceError, so that a fresh run republishes),
 *   unless an earlier attempt of ours, cut off by a timeout, may account for the extra version.
 * What remains: a write by someone else that lands inside that short window (the re-read's answer to the put's
 * arrival) is overwritten, then reported. Reserved concurrency 1 and the run's deadline keep the function's own
 * runs apart, so the other writer can only be the CLI's `--write` or a manual put.
 * The write is retried here, not by the SDK, so that no attempt goes out without the re-read; throttling,
 * TooManyUpdates, 5xx, timeouts and resets are retried with backoff. An attempt whose answer was lost after SSM
 * stored it shows up in the re-read as our own value, and counts as written.
 *
 * @param client - SSM client
 * @param name - parameter name
 * @param value - the new value
 * @param tier - the tier the value needs (`tierFor`)
 * @param readVersion - the version the run read at its start (undefined: the parameter did not exist)
 * @param scope - the run's scope (signal, deadline, call counters)
 * @param guard - a further check before each attempt (a part's write checks that the main parameter is unchanged)
 * @returns the parameter's new version
 * @throws ConflictError when the parameter changed since the run read it; OverwriteRaceError when another writer's
 *   value landed between the re-read and the put; PublishError when the write fails, its answer has no Version,
 *   or too little of the run's time is left to write
 */
export const writeParameter = async (
  client: SSMClient,
  name: string,
  value: string,
  tier: ParameterTier,
  readVersion: number | undefined,
  scope: RunScope,
  guard?: () => Promise<void>,
): Promise<number> => {
  let ownMayHaveLanded = false;
  for (let attempt = 1; ; attempt += 1) {
    await guard?.();
    const stored = await freshRead(client, name, scope);
    if (stored?.version !== readVersion) {
      if (stored?.value === value) return stored.version; // an earlier attempt of ours (or an equal set) was stored
      throw new ConflictError(name, readVersion, stored?.version);
    }
    requireTimeToWrite(scope, name);
    try {
      const command = withoutSdkRetries(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: 'String',
          Tier: tier,
          Overwrite: readVersion !== undefined,
        }),
      );
      const answer = await awsCall(scope, 'ssm:PutParameter', (abortSignal) => client.send(command, { abortSignal }));
      const written = checkAnswer(putAnswer, answer, name).Version!;
      if (written <= (readVersion ?? 0)) {
        throw new InvalidResponseError(
          `invalid answer (${name}): Version ${written} is not above the version ${readVersion ?? 0} read before the write`,
        );
      }
      if (written > (readVersion ?? 0) + 1 && !ownMayHaveLanded) throw new OverwriteRaceError(name, readVersion, written);
      return written;
    } catch (error) {
      if (error instanceof OverwriteRaceError) throw error;
      // Someone created the parameter after the re-read: the next re-read says who (our own late attempt or not).
      if (error instanceof ParameterAlreadyExists && attempt < PUT_PARAMETER_MAX_ATTEMPTS) continue;
      if (!isRetryable(error) || attempt >= PUT_PARAMETER_MAX_ATTEMPTS) {
        throw new PublishError('ssm:PutParameter', name, { cause: error });
      }
      ownMayHaveLanded ||= mayHaveLanded(error);
      await pause(scope, backoff(attempt)).catch((reason: unknown) => {
        throw new PublishError('ssm:PutParameter', name, { cause: reason });
      });
    }
  }
};
