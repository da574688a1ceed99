/**
 * Test vectors for the Elixir reader, from the reconciler's own encoder (lib/peerSet): many sets in one run.
 * `npx tsx elixir/test/support/encode_sets.ts INPUT OUTPUT [--v2]`: each INPUT line is `BASENAME IP IP ...`; each
 * OUTPUT line is the values that publish that set, tab-separated: the main parameter's value, then the parts'
 * values in order (none for v1). `--v2` gives the v2 form even when v1 fits. Run from the repository root.
 * (Random sets of every size: random_sets.ts.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildPeerSet, peerSetValues } from '../../../lib/peerSet/index.js';

const [input, output, ...flags] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: encode_sets.ts INPUT OUTPUT [--v2]');
  process.exit(2);
}
const v2 = flags.includes('--v2');
const encode = (basename: string, ips: string[]): string => {
  const { nodes, rejected } = buildPeerSet(basename, ips);
  if (rejected.length > 0) throw new Error(`not IPv4 addresses: ${rejected.slice(0, 3).join(', ')}`);
  const { main, parts } = peerSetValues(basename, nodes, { v2 });
  return [main, ...parts].join('\t');
};
const lines = readFileSync(input, 'utf8')
  .split('\n')
  .filter((line) => line !== '');
const encoded: string[] = [];
for (const line of lines) {
  const [basename = '', ...ips] = line.split(' ').filter(Boolean);
  encoded.push(encode(basename, ips));
}
writeFileSync(output, encoded.join('\n') + '\n');
