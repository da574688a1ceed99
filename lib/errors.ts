/**
 * Errors of ecs-peers. Each names what failed and what the operator can do;
 * the original error, when there is one, is kept as `cause`.
 */

/** The Lambda's environment is missing a variable or holds a bad value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The invocation payload is not a trigger the reconciler accepts. Nothing was written. */
export class TriggerError extends Error {
  override name = 'TriggerError';
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

/** The peer set does not fit in an SSM parameter value. */
export class PeerSetTooLargeError extends Error {
  override name = 'PeerSetTooLargeError';

  /**
   * @param characters - length of the encoded peer set
   * @param limit - the largest value SSM accepts
   */
  constructor(
    readonly characters: number,
    readonly limit: number,
  ) {
    super(
      `the peer set is ${characters} characters, over the SSM Advanced tier limit of ${limit}; ` +
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
   * @param options - `cause`: the SDK error
   */
  constructor(
    readonly api: string,
    readonly parameter: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `${options.cause.name}: ${options.cause.message}` : 'unknown error';
    super(`${api} on ${parameter} failed (${cause}); the parameter keeps its last value`, options);
  }
}

/** A short description of an SDK error for messages: `Name: message`. */
export const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
