import type { SSMClient } from '@aws-sdk/client-ssm';
import { decodePeerSet, decodeV2, parseManifest, partName } from '../peerSet/index.js';
import type { RunScope } from '../runScope.js';
import { readParts } from './parts.js';
import { readParameter } from './ssm.js';

/** A published set as a node reads it. */
export type ReadSet =
  | { format: 1 | 2; version: number; nodes: string[]; parts: number }
  | { format?: 1 | 2; version?: number; problem: string };

/**
 * Reads a published set the way a node does: the main parameter, and for a v2 manifest its parts with one
 * GetParameters call, checked against the manifest (a torn or unreadable set is a problem, never a set).
 *
 * @param client - SSM client
 * @param name - the main parameter's name
 * @param scope - a run scope (deadline, abort, call counters)
 * @throws PublishError when a call fails
 */
export const readPeerSet = async (client: SSMClient, name: string, scope: RunScope): Promise<ReadSet> => {
  const stored = await readParameter(client, name, scope);
  if (stored === undefined) return { problem: `${name} does not exist` };
  const manifest = parseManifest(stored.value);
  if (manifest === undefined) {
    const nodes = decodePeerSet(stored.value);
    return nodes === undefined
      ? { version: stored.version, problem: `${name} holds neither a v1 peer set nor a v2 manifest` }
      : { format: 1, version: stored.version, nodes, parts: 0 };
  }
  const names = manifest.parts.map((_, index) => partName(name, index));
  const parts = await readParts(client, names, scope);
  const decoded = decodeV2(manifest, names.map((part) => parts.get(part)?.value));
  return Array.isArray(decoded)
    ? { format: 2, version: stored.version, nodes: decoded, parts: names.length }
    : { format: 2, version: stored.version, problem: decoded.problem };
};
