/**
 * Prints the SSM values that publish a set of addresses, for the Elixir reader's tests (and anyone checking the
 * format by hand): `npx tsx scripts/encode-peer-set.ts [--parameter NAME] [--basename NAME] [--v2] < ips.txt`,
 * one IPv4 address a line. Output: `{"main":"...","parts":{"NAME/part/0":"...",...}}` (no parts for a v1 value).
 * `--v2` gives the v2 form even when the set fits v1. The format: docs/peer-set-format.md.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildPeerSet, partName, peerSetValues } from '../lib/peerSet/index.js';

const { values } = parseArgs({
  options: {
    parameter: { type: 'string', default: '/ecs-peers/shop' },
    basename: { type: 'string', default: 'shop' },
    v2: { type: 'boolean', default: false },
  },
});
const lines = readFileSync(0, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
const { nodes, rejected } = buildPeerSet(values.basename, lines);
if (rejected.length > 0) {
  console.error(`not IPv4 addresses: ${rejected.slice(0, 5).join(', ')}${rejected.length > 5 ? ' ...' : ''}`);
  process.exit(1);
}
const { main, parts } = peerSetValues(values.basename, nodes, { v2: values.v2 });
const named = Object.fromEntries(parts.map((value, index) => [partName(values.parameter, index), value]));
console.log(JSON.stringify({ main, parts: named }));
