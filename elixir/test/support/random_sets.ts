/**
 * Random peer sets encoded by the reconciler's own encoder (lib/peerSet `peerSetValues`), for the Elixir reader's
 * cross-language test (`EcsPeers.Test.TsEncoder.random_sets/3`). The sets are made here from a seed, so the
 * Elixir side ships nothing but the arguments (run from the repository root):
 *
 *     npx tsx elixir/test/support/random_sets.ts SEED sizes FROM TO SPACE,...
 *     npx tsx elixir/test/support/random_sets.ts SEED v1-lengths FROM TO SPACE,...
 *
 * `sizes`: size n (FROM..TO, in order) gets one set of exactly n distinct addresses from the spaces in turn (the
 * n-th of the list, cyclically). `v1-lengths`: each length L (FROM..TO, from 130) gets, in every space, one set whose v1
 * value is exactly L characters (random addresses, then a few whose lengths make up the rest), for the v1/v2
 * switch at 8,192. Spaces: `all`, the whole IPv4 space (a set whose size is a multiple of 5 holds 0.0.0.0 and
 * 255.255.255.255), and `dense`, 10.0.0.0/16. Each set is one line on stdout, fields separated by tabs:
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
 * memory stays flat; end of stdin ends the script. A failure is one line `error MESSAGE`.
 */
import { createHash } from 'node:crypto';
import { readSync, writeSync } from 'node:fs';
import { peerSetValues } from '../../../lib/peerSet/index.js';

const BASENAME = 'shop';
const SPACES: Record<string, { base: number; span: number }> = {
  all: { base: 0, span: 2 ** 32 },
  dense: { base: 0x0a000000, span: 2 ** 16 },
};

const [seedText = '', mode = '', fromText = '', toText = '', spaceList = ''] = process.argv.slice(2);
const [seed, from, to] = [seedText, fromText, toText].map(Number) as [number, number, number];
const spaces = spaceList.split(',');
const valid = [seed, from, to].every(Number.isSafeInteger) && spaces.every((space) => space in SPACES);
if (!valid || !(mode === 'sizes' || (mode === 'v1-lengths' && from >= 130))) {
  const known = Object.keys(SPACES).join(', ');
  console.error(`usage: random_sets.ts SEED sizes|v1-lengths FROM TO SPACE,... (SPACE: ${known}; v1 lengths from 130)`);
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

const randomAddress = (space: string): number => SPACES[space]!.base + Math.floor(random() * SPACES[space]!.span);

/** Names rank-coded addresses (sorted: the names come sorted as byte strings). */
const namesOf = (keys: Uint32Array): string[] => {
  const names = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i += 1) names[i] = nameOfRanks(keys[i]!);
  return names;
};
const named = (addresses: Iterable<number>): string[] => namesOf(Uint32Array.from(addresses, byRank).sort());

/** The node names of `size` distinct random addresses of a space, sorted as byte strings. */
const randomNames = (size: number, space: string): string[] => {
  // Typed arrays rather than a Set (this script's own work was about a third of its time): draw, sort, drop
  // repeats, draw what is missing.
  let keys = Uint32Array.from(space === 'all' && size >= 2 && size % 5 === 0 ? [0, 0xffffffff] : [], byRank);
  while (keys.length < size) {
    const drawn = new Uint32Array(size);
    drawn.set(keys);
    for (let i = keys.length; i < size; i += 1) drawn[i] = byRank(randomAddress(space));
    drawn.sort();
    let distinct = 0;
    for (let i = 0; i < size; i += 1) if (i === 0 || drawn[i] !== drawn[i - 1]) drawn[distinct++] = drawn[i]!;
    keys = drawn.slice(0, distinct);
  }
  return namesOf(keys);
};

// A name costs its length and 3 characters in the v1 value (quotes, comma), which holds 23 more: `{"version":1,
// "nodes":[` .. `]}` less the last comma. Names of the whole space are 12..20 characters (`shop@0.0.0.0` ..), of
// 10.0.0.0/16 13..17.
const COSTS: Record<string, [number, number]> = { all: [15, 23], dense: [16, 20] };
const cost = (address: number): number =>
  `${BASENAME}@${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`.length + 3;
const octetOf = (length: number): number =>
  [0, 10, 100][length - 1]! + Math.floor(random() * [10, 90, 156][length - 1]!);

/** A random address of a space whose node name costs `wanted` characters in the v1 value. */
const addressCosting = (wanted: number, space: string): number => {
  const free = space === 'all' ? 4 : 2;
  // The free octets' digits: all but quotes and comma, `shop@`, the dots, and `10` and `0` of 10.0.0.0/16.
  let left = wanted - 3 - 5 - 3 - (space === 'all' ? 0 : 3);
  const lengths = Array.from({ length: free }, () => 1);
  for (left -= free; left > 0; left -= 1) {
    const open = lengths.flatMap((length, i) => (length < 3 ? [i] : []));
    lengths[open[Math.floor(random() * open.length)]!]! += 1;
  }
  const octets = lengths.map(octetOf);
  return octets.reduce((value, octet) => value * 256 + octet, space === 'all' ? 0 : 10 * 256) >>> 0;
};

/** The node names of a random set of a space whose v1 value is exactly `length` characters. */
const namesOfV1Length = (length: number, space: string): string[] => {
  const [least, most] = COSTS[space]!;
  const picked = new Set<number>();
  let rest = length - 23;
  // Random addresses while what is left is well over what a few names of any length make up (107 or more
  // characters: some number of names costing `least` .. `most` each makes it up exactly).
  while (rest >= 130) {
    const address = randomAddress(space);
    if (picked.has(address)) continue;
    picked.add(address);
    rest -= cost(address);
  }
  const count = Math.ceil(rest / most);
  for (let i = 0; i < count; i += 1) {
    const wanted = Math.floor(rest / (count - i));
    if (wanted < least || wanted > most) throw new Error(`no name costs ${wanted} characters in ${space}`);
    let address: number;
    do address = addressCosting(wanted, space);
    while (picked.has(address));
    picked.add(address);
    rest -= wanted;
  }
  const names = named(picked);
  const v1 = JSON.stringify({ version: 1, nodes: names }).length;
  if (v1 !== length) throw new Error(`a set meant to be ${length} characters in v1 is ${v1}`);
  return names;
};

const line = (names: string[], space: string): string => {
  const digest = sha256(names.join('\n'));
  const forcedValues = peerSetValues(BASENAME, names, { v2: true });
  const naturalValues = peerSetValues(BASENAME, names);
  const forced = [forcedValues.main, ...forcedValues.parts].join('\t');
  const natural = [naturalValues.main, ...naturalValues.parts].join('\t');
  const rest = natural === forced ? `=\t${sha256(forced)}` : natural;
  return `${names.length}\t${space}\t${digest}\t${1 + forcedValues.parts.length}\t${forced}\t${rest}\n`;
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

const sets = function* (): Generator<[string[], string]> {
  for (let n = from; n <= to; n += 1) {
    if (mode === 'sizes') yield [randomNames(n, spaces[n % spaces.length]!), spaces[n % spaces.length]!];
    else for (const space of spaces) yield [namesOfV1Length(n, space), space];
  }
};
// A failure is a line `error MESSAGE`; then the script waits for the reader to go (end of stdin), so it never
// gets a credit it cannot read (which would end the reader's port with EPIPE before the message is read).
try {
  for (const [names, space] of sets()) {
    if (!mayWrite()) break;
    writeLine(line(names, space));
  }
} catch (error) {
  writeLine(`error\t${String(error instanceof Error ? (error.stack ?? error.message) : error).replace(/\s+/g, ' ')}\n`);
  while (whenReady(() => readSync(0, credit, 0, credit.length, null)) > 0);
  process.exitCode = 1;
}
