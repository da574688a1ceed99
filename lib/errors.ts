/**
 * Errors of ecs-peers. Each names what failed and what the operator can do;
 * the original error, when there is one, is kept as `cause`.
 */

/** The longest description of a cause an error message carries (AWS messages from a broken endpoint can be huge). */
const CAUSE_MAX_CHARS = 1000;

/** A short description of an error for messages: `Name: message`, cut to CAUSE_MAX_CHARS. */
export const describeError = (error: unknown): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > CAUSE_MAX_CHARS
    ? `${text.slice(0, CAUSE_MAX_CHARS)}... (${text.length - CAUSE_MAX_CHARS} more characters)`
    : text;
};

/** The Lambda's environment is missing a variable or holds a bad value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The invocation payload is not a trigger the reconciler accepts. Nothing was written. */
export class TriggerError extends Error {
  override name = 'TriggerError';
}

/** An AWS answer lacks a field the run relies on, or holds one it cannot trust (e.g. a task it did not ask for). */
export class InvalidResponseError extends Error {
  override name = 'InvalidResponseError';
}

/** A listing has more pages than a run reads (the Tagging API's GET_RESOURCES_MAX_PAGES). */
export class PageLimitError extends Error {
  override name = 'PageLimitError';

  /**
   * @param message - what was read
   * @param items - how many distinct items the pages held (an API that loops on empty pages holds none)
   */
  constructor(
    message: string,
    readonly items: number,
  ) {
    super(message);
  }
}

/** The run used up its time budget (set well inside the Lambda timeout) before it finished. */
export class RunDeadlineError extends Error {
  override name = 'RunDeadlineError';
}

/** The invocation ended (middy's early timeout aborted it) while the run was still working. */
export class InvocationEndedError extends Error {
  override name = 'InvocationEndedError';
}

/** The run had already ended (failed or finished) when a call of it was still in flight; the call was stopped. */
export class RunEndedError extends Error {
  override name = 'RunEndedError';
}

/** An AWS call failed while discovering tasks; the peer set was not published. */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';

  /**
   * @param api - the AWS API that failed, e.g. `ecs:DescribeTasks`
   * @param message - what went wrong
   * @param options - `cause`: the SDK error
   */
  constructor(
    readonly api: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${api}: ${message}; the peer set was not published and keeps its last value`, options);
  }
}

/** Running tasks have no usable private IPv4 address, so the peer set would be partial; nothing was published. */
export class TaskAddressError extends Error {
  override name = 'TaskAddressError';
}

/** The peer set does not fit in an SSM parameter value. */
export class PeerSetTooLargeError extends Error {
  override name = 'PeerSetTooLargeError';

  /**
   * @param characters - length of the encoded peer set
   * @param limit - the most characters SSM (or the v2 form's parts) can hold
   * @param what - the limit in words
   */
  constructor(
    readonly characters: number,
    readonly limit: number,
    what = 'the SSM Advanced tier limit',
  ) {
    super(
      `the peer set is ${characters} characters, over ${what} of ${limit}; ` +
        'the parameter keeps its last value (split the cluster by tags, or publish to Cloud Map)',
    );
  }
}

/** Reading or writing the SSM parameter failed. */
export class PublishError extends Error {
  override name = 'PublishError';

  /**
   * @param api - the AWS API that failed, e.g. `ssm:PutParameter`
   * @param parameter - the parameter name
   * @param options - `cause`: the SDK error (or the InvalidResponseError / RunDeadlineError behind the failure)
   */
  constructor(
    readonly api: string,
    readonly parameter: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause === undefined ? 'unknown error' : describeError(options.cause);
    super(`${api} on ${parameter} failed (${cause}); the parameter keeps its last value`, options);
  }
}

/**
 * The parameter changed between the run's first read and its write: someone else (the CLI's `--write`, a
 * manual put, an overlapping run) published meanwhile. The run does not overwrite a value newer than its read.
 */
export class ConflictError extends PublishError {
  override name = 'ConflictError';

  /**
   * @param parameter - the parameter name
   * @param readVersion - the version the run read at its start (undefined: the parameter did not exist)
   * @param storedVersion - the version stored just before the write (undefined: the parameter is gone)
   */
  constructor(
    parameter: string,
    readonly readVersion: number | undefined,
    readonly storedVersion: number | undefined,
  ) {
    super('ssm:PutParameter', parameter);
    const version = (value: number | undefined) => (value === undefined ? 'none' : `version ${value}`);
    this.message =
      `ssm:PutParameter on ${parameter} not sent: the parameter changed during this run ` +
      `(${version(readVersion)} when the run started, ${version(storedVersion)} now); another writer ` +
      '(the CLI with --write, a manual put or an overlapping run) published after this run read it. ' +
      'The stored value is kept; the next run starts from it';
  }
}

/**
 * The write went out, but SSM's new version shows that another writer stored a value between the write's re-read
 * and its put (SSM has no compare-and-swap). The value stored now is this run's, and the other writer's, possibly
 * from a newer discovery, was overwritten: the run fails, so that the invocation's retry or the next scheduled run
 * discovers again and republishes.
 */
export class OverwriteRaceError extends ConflictError {
  override name = 'OverwriteRaceError';

  /**
   * @param parameter - the parameter name
   * @param readVersion - the version the write's re-read saw (undefined: the parameter did not exist)
   * @param writtenVersion - the version SSM gave this run's put
   */
  constructor(
    parameter: string,
    readVersion: number | undefined,
    readonly writtenVersion: number,
  ) {
    super(parameter, readVersion, writtenVersion);
    this.message =
      `ssm:PutParameter on ${parameter} raced another writer: the put stored version ${writtenVersion}, but the ` +
      `re-read just before it saw ${readVersion === undefined ? 'no parameter' : `version ${readVersion}`}, so ` +
      'another writer (the CLI with --write, a manual put) stored a value in between and this run wrote over it. ' +
      "The stored value is this run's; the next run discovers again and republishes";
  }
}
