import { createHash } from 'node:crypto';
import { BASENAME_PATTERN, PEER_SET_PART_MAX_CHARS, PEER_SET_PARTS_MAX } from '../constants.js';

// The v2 peer-set format: a manifest in the main parameter, the addresses in up to 10 part parameters.
// /work/notes/ssm-v2-format.md (docs/peer-set-format.md once published) is the specification; this module and
// the Elixir reader implement it.

/** The manifest the main parameter holds when the set does not fit v1. */
export interface Manifest {
  version: 2;
  encoding: 'ipv4-delta-varint';
  basename: string;
  count: number;
  /** SHA-256 hex of the sorted node names joined by "\n". */
  digest: string;
  /** First 16 hex characters of SHA-256 of each part's value, in order. */
  parts: string[];
}

export const V2_ENCODING = 'ipv4-delta-varint';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** First 16 hex characters of SHA-256 of a part's value: what the manifest lists for it. */
export const partHash = (value: string): string => sha256(value).slice(0, 16);

/** SHA-256 of the canonical form of a set: the node names, sorted, joined by "\n". */
export const setDigest = (nodes: readonly string[]): string => sha256([...nodes].sort().join('\n'));

/**
 * The name of part `index` of a parameter: `/ecs-peers/shop` -> `/ecs-peers/shop/part/0`. A name without `/`
 * gets a leading one, as SSM requires of hierarchical names.
 *
 * @param parameter - the main parameter's name
 * @param index - 0..9
 */
export const partName = (parameter: string, index: number): string =>
  `${parameter.startsWith('/') ? parameter : `/${parameter}`}/part/${index}`;

/** `a.b.c.d` as an unsigned 32-bit integer. */
const toInt = (ip: string): number => {
  let value = 0;
  let octet = 0;
  for (let index = 0; index < ip.length; index += 1) {
    const code = ip.charCodeAt(index);
    if (code === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + code - 48;
  }
  return value * 256 + octet;
};
const toIp = (value: number): string =>
  `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;

/**
 * The payload of sorted, unique addresses: unsigned LEB128 of the first, then of each difference to the
 * previous, in base64.
 *
 * @param addresses - unsigned 32-bit integers, ascending, unique
 */
export const encodeAddresses = (addresses: readonly number[]): string => {
  const bytes = new Uint8Array(addresses.length * 5);
  let length = 0;
  let previous = 0;
  for (const address of addresses) {
    let rest = address - previous;
    previous = address;
    while (rest >= 0x80) {
      bytes[length++] = (rest & 0x7f) | 0x80;
      rest >>>= 7; // addresses are unsigned 32-bit
    }
    bytes[length++] = rest;
  }
  return Buffer.from(bytes.buffer, 0, length).toString('base64');
};

/**
 * Cuts the payload into part values of PEER_SET_PART_MAX_CHARS characters (a multiple of 4, so only the last
 * one holds base64 padding).
 *
 * @param text - the base64 payload
 */
export const splitParts = (text: string): string[] => {
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += PEER_SET_PART_MAX_CHARS) {
    parts.push(text.slice(start, start + PEER_SET_PART_MAX_CHARS));
  }
  return parts;
};

/** The v2 form of a set: the manifest's value and the part values, in order. */
export interface EncodedV2 {
  manifest: Manifest;
  main: string;
  parts: string[];
  /** Length of the base64 payload: over PEER_SET_PARTS_MAX * PEER_SET_PART_MAX_CHARS it cannot be published. */
  payloadChars: number;
}

/**
 * Encodes node names (`basename@IPv4`, one basename) in the v2 form. It does not check the ceiling: callers
 * compare `payloadChars` (or `parts.length`) with PEER_SET_PARTS_MAX.
 *
 * @param basename - the node basename
 * @param nodes - node names, unique
 * @example
 * encodeV2('shop', ['shop@10.0.0.1', 'shop@10.0.0.3']).parts; // ['gYCAUAI=']
 */
export const encodeV2 = (basename: string, nodes: readonly string[]): EncodedV2 => {
  const addresses = nodes.map((node) => toInt(node.slice(node.indexOf('@') + 1))).sort((a, b) => a - b);
  const text = encodeAddresses(addresses);
  const parts = splitParts(text);
  const manifest: Manifest = {
    version: 2,
    encoding: V2_ENCODING,
    basename,
    count: nodes.length,
    digest: setDigest(nodes),
    parts: parts.map(partHash),
  };
  return { manifest, main: JSON.stringify(manifest), parts, payloadChars: text.length };
};

const HEX16 = /^[0-9a-f]{16}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads a main parameter value as a v2 manifest.
 *
 * @param value - the main parameter's value
 * @returns the manifest, or undefined when the value is not a valid v2 manifest
 */
export const parseManifest = (value: string): Manifest | undefined => {
  let document: unknown;
  try {
    document = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof document !== 'object' || document === null) return undefined;
  const { version, encoding, basename, count, digest, parts } = document as Record<string, unknown>;
  const valid =
    version === 2 &&
    encoding === V2_ENCODING &&
    typeof basename === 'string' &&
    BASENAME_PATTERN.test(basename) &&
    Number.isSafeInteger(count) &&
    (count as number) >= 0 &&
    typeof digest === 'string' &&
    HEX64.test(digest) &&
    Array.isArray(parts) &&
    parts.length <= PEER_SET_PARTS_MAX &&
    parts.every((hash) => typeof hash === 'string' && HEX16.test(hash)) &&
    (parts.length === 0) === (count === 0);
  return valid ? { version: 2, encoding: V2_ENCODING, basename, count, digest, parts } as Manifest : undefined;
};

/** Why a set of parts is not the set its manifest names. */
export type PartsProblem = { problem: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (text: string): boolean => text.length % 4 === 0 && BASE64.test(text);

/**
 * Reads the payload back: exactly `count` addresses, or undefined for text that is not base64, a truncated or
 * oversized varint, a delta of 0 (a repeated address), a sum over 2^32 - 1, or bytes left over.
 *
 * @param text - the concatenated part values
 * @param count - how many addresses the manifest says it holds
 */
export const decodeAddresses = (text: string, count: number): number[] | undefined => {
  if (!isBase64(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  const addresses: number[] = [];
  let offset = 0;
  let previous = 0;
  for (let index = 0; index < count; index += 1) {
    let value = 0;
    for (let shift = 0, scale = 1; ; shift += 1, scale *= 0x80) {
      if (shift === 5 || offset >= bytes.length) return undefined;
      const byte = bytes[offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
    }
    if (index > 0 && value === 0) return undefined;
    previous += value;
    if (previous > 0xffffffff) return undefined;
    addresses.push(previous);
  }
  return offset === bytes.length ? addresses : undefined;
};

/**
 * Checks part values against their manifest and decodes the set. Any mismatch (a part missing, a part of
 * another run, a payload that does not decode to `count` addresses with the manifest's digest) is a problem:
 * the reader keeps what it has and retries at its next poll.
 *
 * @param manifest - the manifest read from the main parameter
 * @param parts - the values of parts 0..K-1 (undefined: the part does not exist)
 * @returns the node names, sorted, or the problem
 */
export const decodeV2 = (manifest: Manifest, parts: readonly (string | undefined)[]): string[] | PartsProblem => {
  for (const [index, hash] of manifest.parts.entries()) {
    const value = parts[index];
    if (value === undefined) return { problem: `part ${index} is missing` };
    if (partHash(value) !== hash) return { problem: `part ${index} does not match the manifest (a torn set)` };
  }
  const addresses = decodeAddresses(parts.slice(0, manifest.parts.length).join(''), manifest.count);
  if (addresses === undefined) return { problem: `the parts do not hold ${manifest.count} addresses` };
  const nodes = addresses.map((address) => `${manifest.basename}@${toIp(address)}`).sort();
  if (setDigest(nodes) !== manifest.digest) return { problem: 'the decoded set does not match the digest' };
  return nodes;
};
