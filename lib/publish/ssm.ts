import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type ParameterTier,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { checkAnswer } from '../answer.js';
import {
  PUT_PARAMETER_BACKOFF_MAX_MS,
  PUT_PARAMETER_BACKOFF_MS,
  PUT_PARAMETER_MAX_ATTEMPTS,
  WRITE_MIN_REMAINING_MS,
} from '../constants.js';
import { ConflictError, InvalidResponseError, PublishError, RunDeadlineError } from '../errors.js';
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

/** Full-jitter exponential backoff before write attempt `attempt + 1`. */
const backoff = (attempt: number): number =>
  Math.random() * Math.min(PUT_PARAMETER_BACKOFF_MAX_MS, PUT_PARAMETER_BACKOFF_MS * 2 ** (attempt - 1));

/**
 * Overwrites the parameter with a new value, in the tier the value needs, unless someone else changed it since
 * the run read it. Immediately before each attempt the stored version is read again: a different version means
 * someone published after this run's read, and their value (a newer discovery, or the operator's) is kept. The
 * write is retried here, not by the SDK, so that no attempt goes out without that re-read; throttling,
 * TooManyUpdates, 5xx, timeouts and resets are retried with backoff. An attempt whose answer was lost after SSM
 * stored it shows up in the re-read as our own value, and counts as written. SSM has no conditional put, so a
 * write racing that re-read by milliseconds can still win; reserved concurrency 1 and the run's deadline keep the
 * function's own runs apart, and this check covers the CLI and manual puts.
 *
 * @param client - SSM client
 * @param name - parameter name
 * @param value - the new value
 * @param tier - the tier the value needs (`tierFor`)
 * @param readVersion - the version the run read at its start (undefined: the parameter did not exist)
 * @param scope - the run's scope (signal, deadline, call counters)
 * @param guard - a further check before each attempt (a part's write checks that the main parameter is unchanged)
 * @returns the parameter's new version
 * @throws ConflictError when the parameter changed since the run read it; PublishError when the write fails,
 *   its answer has no Version, or too little of the run's time is left to write
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
  for (let attempt = 1; ; attempt += 1) {
    const stored = await readParameter(client, name, scope);
    if (stored?.version !== readVersion) {
      if (stored?.value === value) return stored.version; // an earlier attempt of ours (or an equal set) was stored
      throw new ConflictError(name, readVersion, stored?.version);
    }
    await guard?.();
    requireTimeToWrite(scope, name);
    try {
      const command = withoutSdkRetries(
        new PutParameterCommand({ Name: name, Value: value, Type: 'String', Tier: tier, Overwrite: true }),
      );
      const answer = await awsCall(scope, 'ssm:PutParameter', (abortSignal) => client.send(command, { abortSignal }));
      const written = checkAnswer(putAnswer, answer, name).Version!;
      if (written <= (readVersion ?? 0)) {
        throw new InvalidResponseError(
          `invalid answer (${name}): Version ${written} is not above the version ${readVersion ?? 0} read before the write`,
        );
      }
      return written;
    } catch (error) {
      if (!isRetryable(error) || attempt >= PUT_PARAMETER_MAX_ATTEMPTS) {
        throw new PublishError('ssm:PutParameter', name, { cause: error });
      }
      await pause(scope, backoff(attempt)).catch((reason: unknown) => {
        throw new PublishError('ssm:PutParameter', name, { cause: reason });
      });
    }
  }
};
