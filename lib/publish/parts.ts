import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConflictError, InvalidResponseError, PublishError } from '../errors.js';
import { decodePeerSet, decodeV2, parseManifest, partName, type PeerSetValues } from '../peerSet/index.js';
import { PEER_SET_PARTS_MAX } from '../constants.js';
import { awsCall, type RunScope } from '../runScope.js';
import { readParameter, writeParameter, type StoredValue } from './ssm.js';
import { tierFor } from './tier.js';

/** The stored part parameters, by name (absent: the part does not exist). */
export type StoredParts = Map<string, StoredValue>;

const isVersion = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1;

/**
 * Reads part parameters with one GetParameters call (at most 10 names). Every name asked for must come back
 * once, as a parameter with its value and version or as an invalid (absent) name; anything else is a malformed
 * answer.
 *
 * @param client - SSM client
 * @param names - part names, at most 10
 * @param scope - the run's scope (signal, deadline, call counters)
 * @throws PublishError when the call fails or its answer is malformed
 */
export const readParts = async (client: SSMClient, names: readonly string[], scope: RunScope): Promise<StoredParts> => {
  const parts: StoredParts = new Map();
  if (names.length === 0) return parts;
  const label = names[0]!.replace(/\/0$/, '/*');
  try {
    const answer = await awsCall(scope, 'ssm:GetParameters', (abortSignal) =>
      client.send(new GetParametersCommand({ Names: [...names] }), { abortSignal }),
    );
    const asked = new Set(names);
    const seen = new Set<string>();
    const invalid = (why: string) => new InvalidResponseError(`invalid answer (${label}): ${why}`);
    const { Parameters, InvalidParameters = [] } = answer;
    if (!Array.isArray(Parameters) || !Array.isArray(InvalidParameters)) throw invalid('Parameters: not a list');
    for (const parameter of Parameters) {
      const { Name, Value, Version } = parameter ?? {};
      if (typeof Name !== 'string' || !asked.has(Name) || seen.has(Name)) throw invalid(`a parameter nobody asked for: ${Name}`);
      if (typeof Value !== 'string' || !isVersion(Version)) throw invalid(`${Name}: no Value or Version`);
      seen.add(Name);
      parts.set(Name, { value: Value, version: Version });
    }
    for (const name of InvalidParameters) {
      if (!asked.has(name) || seen.has(name)) throw invalid(`InvalidParameters names ${name}`);
      seen.add(name);
    }
    if (seen.size !== asked.size) throw invalid(`${asked.size - seen.size} name(s) neither found nor invalid`);
    return parts;
  } catch (error) {
    throw new PublishError('ssm:GetParameters', label, { cause: error });
  }
};

/** The part names a stored main value refers to (a v2 manifest), or none. */
const referencedParts = (parameter: string, stored: StoredValue | undefined): string[] => {
  const manifest = stored === undefined ? undefined : parseManifest(stored.value);
  return manifest === undefined ? [] : manifest.parts.map((_, index) => partName(parameter, index));
};

/** What the run found published: the nodes, and the stored parts it will compare its own with. */
export interface PublishedSet {
  /** The published nodes; [] when nothing readable is published (no parameter, a torn or unknown value). */
  nodes: string[];
  parts: StoredParts;
}

/**
 * Reads what is published, as far as the run needs it: a v1 value or an unchanged main value needs no further
 * call; a changed v2 set (stored or new) needs its parts, read with one GetParameters for the stored set's parts
 * and the slots the new set will write.
 *
 * @param client - SSM client
 * @param parameter - the main parameter's name
 * @param stored - the main parameter as the run read it first
 * @param values - what the run would publish
 * @param sameNodes - the nodes of `values`, returned when the stored value is the same
 * @param scope - the run's scope
 */
export const readPublished = async (
  client: SSMClient,
  parameter: string,
  stored: StoredValue | undefined,
  values: PeerSetValues,
  sameNodes: string[],
  scope: RunScope,
  rewrite = false,
): Promise<PublishedSet> => {
  if (stored?.value === values.main && !rewrite) return { nodes: sameNodes, parts: new Map() };
  const referenced = referencedParts(parameter, stored);
  const slots = Math.min(PEER_SET_PARTS_MAX, Math.max(referenced.length, values.parts.length));
  const parts = await readParts(client, Array.from({ length: slots }, (_, index) => partName(parameter, index)), scope);
  const manifest = stored === undefined ? undefined : parseManifest(stored.value);
  if (manifest === undefined) return { nodes: (stored && decodePeerSet(stored.value)) ?? [], parts };
  const decoded = decodeV2(manifest, referenced.map((name) => parts.get(name)?.value));
  return { nodes: Array.isArray(decoded) ? decoded : [], parts };
};

/**
 * Publishes a set: each part whose stored value differs (in order), then the main parameter, so that no reader
 * ever sees a manifest before the parts it names. Every write has the guards of `writeParameter` (a re-read of its
 * own version before each attempt, the run's deadline and abort, a validated answer); a part's write also checks
 * before each attempt that the main parameter still has the version the run read, so that a run that lost a race
 * stops before it touches the parts another writer's manifest names.
 *
 * @param client - SSM client
 * @param parameter - the main parameter's name
 * @param values - the main value and part values (`peerSetValues`)
 * @param readVersion - the main parameter's version at the run's start
 * @param stored - the stored parts (`readPublished`)
 * @param scope - the run's scope
 * @returns the main parameter's new version
 * @throws ConflictError or PublishError. Parts written before a failure belong to the new set, so the stored
 *   manifest no longer matches them: readers see a torn set, keep their connections, and read the set the next
 *   run publishes.
 */
export const publishValues = async (
  client: SSMClient,
  parameter: string,
  values: PeerSetValues,
  readVersion: number | undefined,
  stored: StoredParts,
  scope: RunScope,
): Promise<number> => {
  const mainUnchanged = async () => {
    const now = await readParameter(client, parameter, scope);
    if (now?.version !== readVersion) throw new ConflictError(parameter, readVersion, now?.version);
  };
  for (const [index, value] of values.parts.entries()) {
    const name = partName(parameter, index);
    const current = stored.get(name);
    if (current?.value === value) continue;
    await writeParameter(client, name, value, tierFor(value), current?.version, scope, mainUnchanged);
  }
  return writeParameter(client, parameter, values.main, tierFor(values.main), readVersion, scope);
};
