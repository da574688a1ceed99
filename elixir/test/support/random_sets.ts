/**
 * Random peer sets of every size, encoded by the reconciler's own encoder (lib/peerSet `peerSetValues`), for the
 * Elixir reader's cross-language test (`EcsPeers.Test.TsEncoder.random_sets!/2`). The sets are made here from a
 * seed, so the Elixir side ships nothing but the arguments:
 *
 *     npx tsx elixir/test/support/random_sets.ts SEED FROM TO SPACE,...
 *
 * Size n (FROM..TO, in order) gets one set of exactly n distinct addresses from the n-th SPACE of the list, in
 * turn (`all`: the whole IPv4 space, a set whose size is a multiple of 5 holding 0.0.0.0 and 255.255.255.255; `dense`:
 * 10.0.0.0/16). Each set is one line on stdout, fields separated by tabs:
 *
 *     SIZE  SPACE  DIGEST  K  FORCED_1 .. FORCED_K  NATURAL..
 *
 * DIGEST is this script's own account of the set (SHA-256 hex of its `shop@a.b.c.d` names, sorted as byte
 * strings, joined by "\n"); FORCED are the K values publishing it in the v2 form (`v2: true`: the main
 * parameter's value, then the parts'); NATURAL are the values the reconciler publishes (v1 while it fits), or `=`
 * and the SHA-256 hex of the FORCED values joined by tabs when they are the same bytes (a large set's natural
 * form is the v2 one: the reader need not decode it twice).
 *
 * Flow control: each byte read on stdin allows one more line, so a slow reader holds this script back and
 * memory stays flat; end of stdin ends the script.
 */
import { createHash } from 'node:crypto';
import { readSync, writeSync } from 'node:fs';
import { peerSetValues } from '../../../lib/peerSet/index.js';

const BASENAME = 'shop';
const SPACES: Record<string, { base: number; span: number }> = {
  all: { base: 0, span: 2 ** 32 },
  dense: { base: 0x0a000000, span: 2 ** 16 },
};

const [seedText = '', fromText = '', toText = '', spaceList = ''] = process.argv.slice(2);
const [seed, from, to] = [seedText, fromText, toText].map(Number) as [number, number, number];
const spaces = spaceList.split(',');
if (![seed, from, to].every(Number.isSafeInteger) || !spaces.every((space) => space in SPACES)) {
  console.error(`usage: random_sets.ts SEED FROM TO SPACE,... (SPACE: ${Object.keys(SPACES).join(', ')})`);
  process.exit(2);
}

// A small seeded generator (mulberry32): the same seed gives the same sets, so a failure can be replayed.
let state = seed >>> 0;
const random = (): number => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};

// Byte order of `a.b.c.d` is the order of the octets' ranks among the 256 strings `0.` .. `255.` (a prefix-free
// code: `1.` < `10.` < `100.` < `2.`), so a numeric sort of rank-coded addresses sorts the names as byte strings
// without comparing strings (the name sort, not the encoder, was most of this script's time).
const RANK = new Uint32Array(256);
const OCTET_OF_RANK = Array.from({ length: 256 }, (_, octet) => octet).sort((a, b) => (`${a}.` < `${b}.` ? -1 : 1));
OCTET_OF_RANK.forEach((octet, rank) => {
  RANK[octet] = rank;
});
const byRank = (n: number): number =>
  ((RANK[n >>> 24]! << 24) | (RANK[(n >>> 16) & 255]! << 16) | (RANK[(n >>> 8) & 255]! << 8) | RANK[n & 255]!) >>> 0;
const nameOfRanks = (key: number): string => {
  const o = OCTET_OF_RANK;
  return `${BASENAME}@${o[key >>> 24]}.${o[(key >>> 16) & 255]}.${o[(key >>> 8) & 255]}.${o[key & 255]}`;
};

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The node names of `size` distinct random addresses of a space, sorted as byte strings. */
const randomNames = (size: number, space: string): string[] => {
  const { base, span } = SPACES[space]!;
  const picked = new Set<number>();
  if (space === 'all' && size >= 2 && size % 5 === 0) picked.add(0).add(0xffffffff);
  while (picked.size < size) picked.add(base + Math.floor(random() * span));
  const keys = Uint32Array.from(picked, byRank).sort();
  return Array.from(keys, nameOfRanks);
};

const line = (size: number, space: string): string => {
  const names = randomNames(size, space);
  const digest = sha256(names.join('\n'));
  const forcedValues = peerSetValues(BASENAME, names, { v2: true });
  const naturalValues = peerSetValues(BASENAME, names);
  const forced = [forcedValues.main, ...forcedValues.parts].join('\t');
  const natural = [naturalValues.main, ...naturalValues.parts].join('\t');
  const rest = natural === forced ? `=\t${sha256(forced)}` : natural;
  return `${size}\t${space}\t${digest}\t${1 + forcedValues.parts.length}\t${forced}\t${rest}\n`;
};

// stdin and stdout are used with blocking calls: process.stdout's writes to a pipe would wait for the event loop,
// which waits here for the reader, which waits for those writes.
const pause = (): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
};
const whenReady = <T>(call: () => T): T => {
  for (;;) {
    try {
      return call();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      pause();
    }
  }
};

let allowed = 0;
const credit = Buffer.alloc(4096);
/** Blocks until the reader allows another line; false once it has gone (end of stdin). */
const mayWrite = (): boolean => {
  while (allowed === 0) {
    const read = whenReady(() => readSync(0, credit, 0, credit.length, null));
    if (read === 0) return false;
    allowed += read;
  }
  allowed -= 1;
  return true;
};
const writeLine = (text: string): void => {
  const bytes = Buffer.from(text);
  for (let done = 0; done < bytes.length;) done += whenReady(() => writeSync(1, bytes, done));
};

for (let size = from; size <= to && mayWrite(); size += 1) writeLine(line(size, spaces[size % spaces.length]!));
