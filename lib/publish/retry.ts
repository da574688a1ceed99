import { InvocationEndedError, RunDeadlineError, RunEndedError } from '../errors.js';

// What the SDK's standard retry treats as transient or throttling (@smithy retry classification), for the one
// call the reconciler retries itself.
const RETRYABLE_NAMES = new Set([
  'TooManyUpdates', // SSM: a concurrent update of the same parameter
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * Whether a failed write attempt is worth another one: throttling, TooManyUpdates, 5xx, timeouts and broken
 * connections are; client errors, and the run's own deadline or end, are not.
 *
 * @param error - what the attempt threw
 */
export const isRetryable = (error: unknown): boolean => {
  if (error instanceof RunDeadlineError || error instanceof InvocationEndedError || error instanceof RunEndedError) {
    return false;
  }
  if (!(error instanceof Error)) return false;
  const { code, $metadata, $retryable } = error as Error & {
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = $metadata?.httpStatusCode ?? 0;
  return (
    RETRYABLE_NAMES.has(error.name) ||
    RETRYABLE_CODES.has(code ?? '') ||
    $retryable !== undefined ||
    status === 429 ||
    (status >= 500 && status <= 599)
  );
};

/**
 * Turns off the SDK's own retries for one command, so that the caller decides before each attempt (the write
 * re-reads the stored version first). It replaces the client's retry middleware for this command only.
 *
 * @param command - an SDK command
 */
export const withoutSdkRetries = <C extends { middlewareStack: { add: (...args: never[]) => unknown } }>(
  command: C,
): C => {
  const add = command.middlewareStack.add as (
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
    options: Record<string, unknown>,
  ) => void;
  add((next) => (args) => next(args), {
    step: 'finalizeRequest',
    name: 'retryMiddleware',
    tags: ['RETRY'],
    priority: 'high',
    override: true,
  });
  return command;
};
