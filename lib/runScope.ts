import { DEFAULT_RUN_BUDGET_MS, RUN_BUDGET_SHARE } from './constants.js';
import { InvocationEndedError, RunDeadlineError, RunEndedError } from './errors.js';

/** AWS API name (`service:Operation`) -> HTTP requests made to it in one run, SDK retries included. */
export type ApiCalls = Record<string, number>;

/** What every AWS call of one run shares: its counters, its abort signal and its deadline. */
export interface RunScope {
  /** The run's API call counters. */
  calls: ApiCalls;
  /** Aborted when the run's time budget runs out or the invocation ends; passed to every AWS call. */
  signal: AbortSignal;
  /** When the run's budget runs out, in `Date.now()` milliseconds. */
  deadline: number;
  /** The clock the deadline is measured on. */
  now: () => number;
}

/** How a caller bounds a run. */
export interface RunOptions {
  /** Aborted when the invocation ends (middy's `{ signal }`); the run stops sending and never writes after it. */
  signal?: AbortSignal;
  /** Milliseconds the invocation has left (Lambda's `context.getRemainingTimeInMillis()`). */
  remainingMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * The run's time budget: RUN_BUDGET_SHARE of what the invocation has left, or DEFAULT_RUN_BUDGET_MS when the
 * caller gives no remaining time.
 *
 * @param remainingMs - the invocation's remaining time, if known
 */
export const runBudget = (remainingMs?: number): number =>
  remainingMs === undefined ? DEFAULT_RUN_BUDGET_MS : Math.floor(remainingMs * RUN_BUDGET_SHARE);

/**
 * Starts a run's scope: a deadline, and a signal aborted at that deadline or when the caller's signal aborts.
 * Call `end()` when the run is over: it releases the timer and aborts whatever the run still has in flight.
 *
 * @param options - the invocation's signal and remaining time
 */
export const startRun = (options: RunOptions = {}): RunScope & { end: () => void } => {
  const now = options.now ?? Date.now;
  const budget = Math.max(0, Math.floor(runBudget(options.remainingMs)));
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new RunDeadlineError(`the run's time budget of ${budget} ms ran out`)),
    budget,
  );
  timer.unref();
  const onEnded = () =>
    controller.abort(new InvocationEndedError('the invocation ended (Lambda timeout) while the run was working'));
  if (options.signal?.aborted) onEnded();
  options.signal?.addEventListener('abort', onEnded, { once: true });
  return {
    calls: {},
    signal: controller.signal,
    deadline: now() + budget,
    now,
    end: () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onEnded);
      // Calls still in flight when the run failed (the other DescribeTasks chunks, their SDK retries) stop here
      // instead of running on into the frozen or the next invocation.
      if (!controller.signal.aborted) controller.abort(new RunEndedError('the run had already ended'));
    },
  };
};

/** Why the scope's signal aborted: a RunDeadlineError or an InvocationEndedError. */
export const abortReason = (scope: RunScope): Error =>
  scope.signal.reason instanceof Error ? scope.signal.reason : new InvocationEndedError(String(scope.signal.reason));

/** The SDK's count of HTTP attempts behind a response or an error (1 when it gives none). */
const attemptsOf = (outcome: unknown): number => {
  const attempts = (outcome as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
};

/**
 * Makes one SDK call under the run's signal and counts the HTTP requests it took (retries included), whether
 * it succeeds or fails. Once the run's signal has aborted, nothing more is sent, and a call the abort cut
 * short fails with the reason (RunDeadlineError or InvocationEndedError), the SDK's error as its cause.
 *
 * @param scope - the run's scope
 * @param api - e.g. `ecs:DescribeTasks`
 * @param send - the call, given the signal to pass on, e.g. `(abortSignal) => client.send(command, { abortSignal })`
 * @example
 * const output = await awsCall(scope, 'ssm:GetParameter', (abortSignal) =>
 *   ssm.send(new GetParameterCommand(input), { abortSignal }));
 */
export const awsCall = async <T>(
  scope: RunScope,
  api: string,
  send: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> => {
  if (scope.signal.aborted) throw abortReason(scope);
  let outcome: unknown;
  let stopWaiting = () => {};
  // The SDK stops the request on abort; the race also ends the wait where a step ignores the signal.
  const aborted = new Promise<never>((_resolve, reject) => {
    const onAbort = () => reject(abortReason(scope));
    scope.signal.addEventListener('abort', onAbort, { once: true });
    stopWaiting = () => scope.signal.removeEventListener('abort', onAbort);
  });
  try {
    outcome = await Promise.race([send(scope.signal), aborted]);
    return outcome as T;
  } catch (error) {
    outcome = error;
    if (scope.signal.aborted) {
      const reason = abortReason(scope);
      const Kind =
        reason instanceof RunDeadlineError
          ? RunDeadlineError
          : reason instanceof RunEndedError
            ? RunEndedError
            : InvocationEndedError;
      throw new Kind(`${reason.message} during this call`, { cause: error });
    }
    throw error;
  } finally {
    stopWaiting();
    scope.calls[api] = (scope.calls[api] ?? 0) + attemptsOf(outcome);
  }
};

/**
 * Waits, unless the run's signal aborts first.
 *
 * @param scope - the run's scope
 * @param ms - how long
 */
export const pause = (scope: RunScope, ms: number): Promise<void> =>
  new Promise((resolve, reject) => {
    if (scope.signal.aborted) return reject(abortReason(scope));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(scope));
    };
    const timer = setTimeout(() => {
      scope.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    scope.signal.addEventListener('abort', onAbort, { once: true });
  });
