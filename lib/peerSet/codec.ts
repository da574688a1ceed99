import { PEER_SET_VERSION } from '../constants.js';
import { isNodeName } from './build.js';

/**
 * Serializes a peer set as the parameter value: `{"version":1,"nodes":[...]}`. The same set always gives the
 * same bytes (no timestamps), so comparing values tells whether the set changed.
 *
 * @param nodes - node names, already unique and sorted
 */
export const encodePeerSet = (nodes: readonly string[]): string => JSON.stringify({ version: PEER_SET_VERSION, nodes });

/**
 * Reads a parameter value back into node names.
 *
 * @param value - the parameter value
 * @returns the nodes, or undefined when the value is not a version-1 peer set of valid names
 */
export const decodePeerSet = (value: string): string[] | undefined => {
  let document: unknown;
  try {
    document = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null) return undefined;
  const { version, nodes } = document as { version?: unknown; nodes?: unknown };
  if (version !== PEER_SET_VERSION || !Array.isArray(nodes)) return undefined;
  return nodes.every((node): node is string => typeof node === 'string' && isNodeName(node)) ? nodes : undefined;
};
