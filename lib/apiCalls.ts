/** AWS API name (`service:Operation`) -> HTTP requests made to it in one run, SDK retries included. */
export type ApiCalls = Record<string, number>;

/** The SDK's count of HTTP attempts behind a response or an error (1 when it gives none). */
const attemptsOf = (outcome: unknown): number => {
  const attempts = (outcome as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
};

/**
 * Makes one SDK call and counts the HTTP requests it took (retries included), whether it succeeds or fails.
 *
 * @param calls - the run's counters
 * @param api - e.g. `ecs:DescribeTasks`
 * @param send - the call, e.g. `() => client.send(command)`
 * @example
 * const output = await countedCall(calls, 'ssm:GetParameter', () => ssm.send(new GetParameterCommand(input)));
 */
export const countedCall = async <T>(calls: ApiCalls, api: string, send: () => Promise<T>): Promise<T> => {
  let outcome: unknown;
  try {
    outcome = await send();
    return outcome as T;
  } catch (error) {
    outcome = error;
    throw error;
  } finally {
    calls[api] = (calls[api] ?? 0) + attemptsOf(outcome);
  }
};
