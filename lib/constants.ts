/** DescribeTasks accepts at most this many task ARNs per call. */
export const DESCRIBE_TASKS_MAX_ARNS = 100;

/** How many DescribeTasks calls may be in flight at once in one run. */
export const DESCRIBE_TASKS_CONCURRENCY = 5;

/** GetResources page size (the API's maximum). */
export const GET_RESOURCES_PAGE_SIZE = 100;

/**
 * The most GetResources pages one run reads (10,000 tagged task ARNs). A published set holds at most about 510
 * nodes (SSM's 8192-character Advanced limit), and the tagged ARNs add only stopped tasks (listed for about an
 * hour after they stop) and tasks of other clusters with the same tags: 10,000 is about 20 times the largest
 * set ecs-peers can publish. More pages mean the tags match far more than one app's tasks, or the API is
 * looping; either way the run stops instead of paging until the Lambda timeout. 100 sequential pages also take
 * about as long as the run's time budget allows.
 */
export const GET_RESOURCES_MAX_PAGES = 100;

/** ListTasks page size (the API's maximum). */
export const LIST_TASKS_PAGE_SIZE = 100;

/** The most ListTasks pages one run reads: 10,000 running tasks, twice the 5,000 peers a set can hold. */
export const LIST_TASKS_MAX_PAGES = 100;

/**
 * How many runs of one execution environment may pass before discovery measures the path it did not take again
 * (see lib/discover/choosePath.ts); at one run a minute, every 20 minutes.
 */
export const DISCOVERY_RECHECK_RUNS = 20;

/** SSM parameter value limits, in characters. */
export const SSM_STANDARD_MAX_CHARS = 4096;
export const SSM_ADVANCED_MAX_CHARS = 8192;

/**
 * SSM limits a parameter name to 1011 characters counted as the whole parameter ARN
 * (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`), not the name alone (SSM API reference, PutParameter `Name`).
 */
export const SSM_PARAMETER_ARN_MAX_CHARS = 1011;

/** Version of the peer set document; readers reject versions they do not know. */
export const PEER_SET_VERSION = 1;

/**
 * The v2 form (a manifest in the main parameter, the addresses in parts): at most this many parts, so that a
 * reader fetches them all with one GetParameters call (its limit is 10 names).
 */
export const PEER_SET_PARTS_MAX = 10;

/** Characters of one part: the Standard tier's limit, so parts cost nothing and never need Advanced. */
export const PEER_SET_PART_MAX_CHARS = SSM_STANDARD_MAX_CHARS;

/** A node basename: what the Elixir side accepts before `@`. */
export const BASENAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Time allowed to open a connection to an AWS endpoint. In-Region connections open in milliseconds; a
 * connection that takes seconds is stalled, and the retry opens a new one.
 */
export const CONNECT_TIMEOUT_MS = 2000;

/**
 * Time allowed for one HTTP attempt to get its response headers, and for a socket to stay silent while the
 * body arrives. These APIs answer in well under a second; at 3 s a stalled request costs 3 s before the SDK
 * retries it, and five attempts of a dead endpoint (15 s plus backoff) end inside the run's time budget with a
 * TimeoutError that names the call.
 */
export const REQUEST_TIMEOUT_MS = 3000;

/** SDK attempts per call (throttling, 5xx, timeouts and resets are retried with adaptive backoff). */
export const SDK_MAX_ATTEMPTS = 5;

/**
 * The share of the invocation's remaining time a run may use. The rest (12 s of the template's 30 s timeout)
 * is kept back, so that even a run whose every call stalls ends with a named error, a log line and a
 * ReconcileErrors metric well before Lambda's own timeout, which would leave none of them.
 */
export const RUN_BUDGET_SHARE = 0.6;

/** The run's time budget when the caller gives no remaining time (the CLI): the share of the template's 30 s. */
export const DEFAULT_RUN_BUDGET_MS = 18_000;

/**
 * A write starts only while at least one whole request attempt fits before the run's deadline: a write that
 * could still be in flight when the invocation ends might land after a newer run's write.
 */
export const WRITE_MIN_REMAINING_MS = REQUEST_TIMEOUT_MS;

/**
 * PutParameter attempts. The write retries by itself (not through the SDK) so that it re-reads the stored version
 * before every attempt: throttling, TooManyUpdates (a concurrent update of the parameter), 5xx, timeouts, resets.
 */
export const PUT_PARAMETER_MAX_ATTEMPTS = SDK_MAX_ATTEMPTS;

/**
 * The longest a write's version re-read may take and still count: SSM has no compare-and-swap, so the window in
 * which another writer's value can be overwritten runs from SSM answering the re-read to SSM applying the put. A
 * re-read that took longer (a slow or retried request) is redone, at most FRESH_READ_ATTEMPTS times in all.
 */
export const FRESH_READ_MS = 500;
export const FRESH_READ_ATTEMPTS = 3;

/** First backoff of a write; doubled for each further attempt up to PUT_PARAMETER_BACKOFF_MAX_MS, full jitter. */
export const PUT_PARAMETER_BACKOFF_MS = 200;
export const PUT_PARAMETER_BACKOFF_MAX_MS = 2000;

/**
 * The longest task ARN accepted from an answer: partition, Region, account, `task/`, a cluster name of at most 255
 * characters and a 32-character id come to about 350; anything longer is a malformed answer, not a task.
 */
export const TASK_ARN_MAX_CHARS = 400;

/** How many items (message ids, ARNs, reasons) one log line or error message lists before it says "and N more". */
export const LOG_LIST_MAX = 20;
