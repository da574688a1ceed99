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
