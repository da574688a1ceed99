import { PeerSetTooLargeError } from '../../../lib/errors.js';
import {
  decodePeerSet,
  decodeV2,
  encodeV2,
  parseManifest,
  partName,
  peerSetValues,
  type Manifest,
} from '../../../lib/peerSet/index.js';
import { decodeAddresses, encodeAddresses, partHash, splitParts } from '../../../lib/peerSet/v2.js';

// A seeded generator, so that a failing size can be replayed (the seed is in the test name).
// Math is read once: a global lookup in jest's VM context costs more than the codec itself.
const { floor, imul } = Math;
const SEED = 0x5eed11;
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};

const ip = (value: number) => [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');

/** `count` distinct addresses: in three /20 subnets (a VPC), or anywhere in the 32-bit space. */
const addressSet = (next: () => number, count: number, spread: 'vpc' | 'anywhere'): string[] => {
  const subnets = [0x0a000000, 0x0a001000, 0x0a002000];
  const seen = new Set<number>();
  while (seen.size < count) {
    seen.add(
      spread === 'vpc'
        ? subnets[floor(next() * 3)]! + floor(next() * 4096)
        : floor(next() * 2 ** 32),
    );
  }
  return [...seen].map(ip);
};

const nodesOf = (addresses: string[]) => addresses.map((address) => `shop@${address}`).sort();

/** Decodes what peerSetValues wrote, as a reader would: v1, or a v2 manifest and its parts. */
const read = (values: { main: string; parts: string[] }): string[] | undefined => {
  const manifest = parseManifest(values.main);
  if (manifest === undefined) return decodePeerSet(values.main);
  const decoded = decodeV2(manifest, values.parts);
  return Array.isArray(decoded) ? decoded : undefined;
};

describe('the v2 peer-set form', () => {
  it(`round-trips the payload of every size from 0 to 5,000 of random address sets (seed ${SEED})`, () => {
    const next = random(SEED);
    for (let size = 0; size <= 5000; size += 1) {
      // Sorted unique addresses from random gaps: small ones (a VPC) or up to the whole space.
      const widest = size % 2 === 0 ? 8 : floor(2 ** 32 / (size + 1));
      const addresses: number[] = [];
      for (let address = -1, index = 0; index < size; index += 1) {
        address += 1 + floor(next() * widest);
        addresses.push(address);
      }
      const parts = splitParts(encodeAddresses(addresses));
      expect(parts.length).toBeLessThanOrEqual(10);
      const decoded = decodeAddresses(parts.join(''), size);
      if (decoded === undefined || decoded.some((address, i) => address !== addresses[i])) {
        throw new Error(`size ${size} does not round-trip: ${JSON.stringify(decoded?.slice(0, 20))}`);
      }
    }
  });

  it(`round-trips node names, manifest and digest at every 25th size up to 5,000 (seed ${SEED})`, () => {
    const next = random(SEED);
    for (let size = 0; size <= 5000; size += size < 10 ? 1 : 25) {
      const nodes = nodesOf(addressSet(next, size, size % 2 === 0 ? 'vpc' : 'anywhere'));
      const encoded = encodeV2('shop', nodes);
      expect(decodeV2(parseManifest(encoded.main)!, encoded.parts)).toEqual(nodes);
    }
  });

  it('publishes v1 while it fits 8192 characters and v2 above, and both read back to the same set', () => {
    const next = random(SEED + 1);
    for (const size of [0, 1, 300, 400, 600, 1000, 2000, 5000]) {
      const nodes = nodesOf(addressSet(next, size, 'vpc'));
      const values = peerSetValues('shop', nodes);
      const v1 = JSON.stringify({ version: 1, nodes });
      expect(values.main).toBe(v1.length <= 8192 ? v1 : encodeV2('shop', nodes).main);
      expect(values.parts.length === 0).toBe(v1.length <= 8192);
      expect(read(values)).toEqual(nodes);
    }
  });

  it('holds 5,000 peers anywhere in the address space within its 10 parts of 4096 characters', () => {
    const nodes = nodesOf(addressSet(random(SEED + 2), 5000, 'anywhere'));
    const { parts } = peerSetValues('shop', nodes);
    expect(parts.length).toBeLessThanOrEqual(10);
    expect(parts.every((part) => part.length <= 4096)).toBe(true);
    expect(parts.slice(0, -1).every((part) => part.length === 4096)).toBe(true);
  });

  it('fits 5,000 peers of a VPC in 2 parts', () => {
    const { parts } = peerSetValues('shop', nodesOf(addressSet(random(SEED + 3), 5000, 'vpc')));
    expect(parts).toHaveLength(2);
  });

  it('fails over the ceiling naming the limit', () => {
    const nodes = nodesOf(addressSet(random(SEED + 4), 12000, 'anywhere'));
    expect(() => peerSetValues('shop', nodes)).toThrow(PeerSetTooLargeError);
    expect(() => peerSetValues('shop', nodes)).toThrow(/over 10 parts of 4096 characters of 40960/);
  });

  it('is the same bytes for the same set in any order', () => {
    const nodes = nodesOf(addressSet(random(SEED + 5), 700, 'vpc'));
    expect(peerSetValues('shop', [...nodes].reverse())).toEqual(peerSetValues('shop', nodes));
  });

  it('keeps the parts before a change byte-identical (only the changed part and those after it are rewritten)', () => {
    const nodes = nodesOf(addressSet(random(SEED + 6), 5000, 'anywhere'));
    const before = peerSetValues('shop', nodes).parts;
    const numeric = (node: string) => node.split('@')[1]!.split('.').reduce((v, o) => v * 256 + Number(o), 0);
    const highest = nodes.reduce((a, b) => (numeric(a) > numeric(b) ? a : b));
    const after = peerSetValues('shop', nodes.filter((node) => node !== highest)).parts;
    expect(after.slice(0, -1)).toEqual(before.slice(0, after.length - 1));
    expect(after.at(-1)).not.toBe(before.at(-1));
  });
});

describe('a reader of the v2 form', () => {
  const small = (seed: number, size: number) => encodeV2('shop', nodesOf(addressSet(random(seed), size, 'anywhere')));

  it('never acts on a torn set: parts of two runs are a problem, not a set', () => {
    const one = small(1, 3000);
    const two = small(2, 3000);
    expect(one.parts.length).toBeGreaterThan(1);
    expect(decodeV2(one.manifest, [two.parts[0]!, ...one.parts.slice(1)])).toEqual({
      problem: 'part 0 does not match the manifest (a torn set)',
    });
    expect(decodeV2(two.manifest, one.parts)).toHaveProperty('problem');
  });

  it('reports a missing part', () => {
    const { manifest, parts } = small(3, 3000);
    expect(decodeV2(manifest, [parts[0]])).toEqual({ problem: 'part 1 is missing' });
  });

  it('rejects a manifest whose count or digest does not match its parts', () => {
    const { manifest, parts } = small(4, 10);
    expect(decodeV2({ ...manifest, count: 9 }, parts)).toHaveProperty('problem');
    expect(decodeV2({ ...manifest, digest: '0'.repeat(64) }, parts)).toEqual({
      problem: 'the decoded set does not match the digest',
    });
  });

  it('rejects a payload with a repeated address (a delta of 0) or trailing bytes', () => {
    const manifestFor = (payload: number[], count: number): [Manifest, string[]] => {
      const part = Buffer.from(payload).toString('base64');
      return [{ ...encodeV2('shop', []).manifest, count, parts: [partHash(part)] }, [part]];
    };
    expect(decodeV2(...manifestFor([1, 0], 2))).toEqual({ problem: 'the parts do not hold 2 addresses' });
    expect(decodeV2(...manifestFor([1, 1, 1], 2))).toEqual({ problem: 'the parts do not hold 2 addresses' });
    expect(decodeV2(...manifestFor([0xff, 0xff, 0xff, 0xff, 0x7f], 1))).toEqual({
      problem: 'the parts do not hold 1 addresses',
    });
  });

  it('accepts only valid manifests', () => {
    const { main, manifest } = small(5, 5);
    expect(parseManifest(main)).toEqual(manifest);
    for (const bad of [
      { ...manifest, version: 3 },
      { ...manifest, encoding: 'deflate' },
      { ...manifest, basename: 'not an atom!' },
      { ...manifest, count: -1 },
      { ...manifest, parts: Array(11).fill('0'.repeat(16)) },
      { ...manifest, parts: [] },
    ]) {
      expect(parseManifest(JSON.stringify(bad))).toBeUndefined();
    }
    expect(parseManifest('{"version":1,"nodes":[]}')).toBeUndefined();
    expect(parseManifest('not json')).toBeUndefined();
  });

  it('names parts under the main parameter, with a leading / for a flat name', () => {
    expect(partName('/ecs-peers/shop', 0)).toBe('/ecs-peers/shop/part/0');
    expect(partName('shop-peers', 9)).toBe('/shop-peers/part/9');
  });
});
