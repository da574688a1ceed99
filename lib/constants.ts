/** DescribeTasks accepts at most this many task ARNs per call. */
export const DESCRIBE_TASKS_MAX_ARNS = 100;

/** How many DescribeTasks calls may be in flight at once in one run. */
export const DESCRIBE_TASKS_CONCURRENCY = 5;

/** GetResources page size (the API's maximum). */
export const GET_RESOURCES_PAGE_SIZE = 100;

/** SSM parameter value limits, in characters. */
export const SSM_STANDARD_MAX_CHARS = 4096;
export const SSM_ADVANCED_MAX_CHARS = 8192;

/** Version of the peer set document; readers reject versions they do not know. */
export const PEER_SET_VERSION = 1;

/** ECS names the cluster that task ARNs without one belong to `default`. */
export const ECS_DEFAULT_CLUSTER = 'default';

/** A node basename: what the Elixir side accepts before `@`. */
export const BASENAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
