import { PEER_SET_PART_MAX_CHARS, PEER_SET_PARTS_MAX, PEER_SET_VERSION, SSM_ADVANCED_MAX_CHARS } from '../constants.js';
import { PeerSetTooLargeError } from '../errors.js';
import { isNodeName } from './build.js';
import { encodeV2 } from './v2.js';

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

/** What a set is published as: the main parameter's value, and the part values (none for v1). */
export interface PeerSetValues {
  main: string;
  parts: string[];
}

/**
 * The values that publish a set: v1 in the main parameter while it fits SSM's 8192 characters (existing
 * readers see no change), else a v2 manifest and its parts (see `encodeV2`).
 *
 * @param basename - the node basename
 * @param nodes - node names, unique and sorted
 * @param options - `v2`: the v2 form even when v1 fits (test vectors)
 * @throws PeerSetTooLargeError when even the v2 form is over its ceiling of 10 parts of 4096 characters
 */
export const peerSetValues = (
  basename: string,
  nodes: readonly string[],
  options: { v2?: boolean } = {},
): PeerSetValues => {
  const v1 = encodePeerSet(nodes);
  if (!options.v2 && v1.length <= SSM_ADVANCED_MAX_CHARS) return { main: v1, parts: [] };
  const { main, parts, payloadChars } = encodeV2(basename, nodes);
  const limit = PEER_SET_PARTS_MAX * PEER_SET_PART_MAX_CHARS;
  if (payloadChars > limit) {
    throw new PeerSetTooLargeError(payloadChars, limit, `${PEER_SET_PARTS_MAX} parts of ${PEER_SET_PART_MAX_CHARS} characters`);
  }
  return { main, parts };
};
