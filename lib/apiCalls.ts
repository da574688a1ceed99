/** AWS API name (`service:Operation`) -> number of calls made in one run. */
export type ApiCalls = Record<string, number>;

/**
 * Counts one call to an AWS API.
 *
 * @param calls - the run's counters
 * @param api - e.g. `ecs:DescribeTasks`
 */
export const countCall = (calls: ApiCalls, api: string): void => {
  calls[api] = (calls[api] ?? 0) + 1;
};
