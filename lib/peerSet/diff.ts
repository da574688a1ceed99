/** What changes from one peer set to the next. */
export interface PeerSetDiff {
  added: string[];
  removed: string[];
}

/**
 * Compares two peer sets.
 *
 * @param current - nodes published now
 * @param desired - nodes that should be published
 */
export const diffPeerSets = (current: readonly string[], desired: readonly string[]): PeerSetDiff => {
  const before = new Set(current);
  const after = new Set(desired);
  return {
    added: desired.filter((node) => !before.has(node)),
    removed: current.filter((node) => !after.has(node)),
  };
};
