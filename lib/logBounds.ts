import { LOG_LIST_MAX } from './constants.js';

/** A list cut down for a log line: the first items, and how many were left out. */
export interface CappedList<T> {
  items: T[];
  /** How many items were left out (0 when all are listed). */
  omitted: number;
}

/**
 * Caps a list for a log line, so that no line nears CloudWatch Logs' 262,144-byte event limit however many
 * items a run meets (an SQS batch holds up to 10,000 messages).
 *
 * @param items - the full list
 * @param max - how many to keep
 */
export const capList = <T>(items: readonly T[], max = LOG_LIST_MAX): CappedList<T> => ({
  items: items.slice(0, max),
  omitted: Math.max(0, items.length - max),
});

/**
 * A list for a message: `a, b, c` or `a, b and 7 more`.
 *
 * @param items - the full list
 * @param max - how many to name
 * @param separator - between items
 */
export const listSample = (items: readonly string[], max = LOG_LIST_MAX, separator = ', '): string => {
  const { items: shown, omitted } = capList(items, Math.max(1, Math.floor(max)));
  return omitted > 0 ? `${shown.join(separator)} and ${omitted} more` : shown.join(separator);
};

/** The longest error message (or other text) one log line or error carries. */
export const TEXT_MAX_CHARS = 2000;

/**
 * Cuts text to TEXT_MAX_CHARS, saying how much was left out: an AWS error message or an unparseable body can be
 * megabytes long (an endpoint answering garbage), and it ends up in the log line and the invocation's error.
 *
 * @param text - the text
 * @param max - the most characters to keep
 */
export const capText = (text: string, max = TEXT_MAX_CHARS): string =>
  text.length > max ? `${text.slice(0, max)}... (${text.length - max} more characters)` : text;

/** SDK error fields worth a log line: where it failed and how often it was tried, never the response body. */
const METADATA_KEYS = ['httpStatusCode', 'requestId', 'attempts', 'totalRetryDelay'] as const;

/**
 * A copy of an error for a log line, with its message, stack and causes (three deep) cut to size and the
 * SDK's response fields (`$response`, `$responseBodyText`) left out.
 *
 * @param error - what was thrown
 * @param depth - causes already followed
 */
export const boundedError = (error: unknown, depth = 0): Error => {
  if (!(error instanceof Error)) return new Error(capText(String(error)));
  const copy = new Error(capText(error.message));
  copy.name = error.name;
  copy.stack = error.stack === undefined ? undefined : capText(error.stack.split('\n').slice(0, 15).join('\n'));
  const source = error as Error & {
    api?: unknown;
    parameter?: unknown;
    $fault?: unknown;
    $metadata?: Record<string, unknown>;
  };
  const extra: Record<string, unknown> = {};
  for (const key of ['api', 'parameter', '$fault'] as const) {
    if (typeof source[key] === 'string') extra[key] = source[key];
  }
  if (source.$metadata !== undefined) {
    extra.$metadata = Object.fromEntries(
      METADATA_KEYS.flatMap((key) => (key in source.$metadata! ? [[key, source.$metadata![key]]] : [])),
    );
  }
  Object.assign(copy, extra);
  if (error.cause !== undefined && depth < 3) copy.cause = boundedError(error.cause, depth + 1);
  return copy;
};
