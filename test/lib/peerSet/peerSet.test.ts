import { ConfigError } from '../../../lib/errors.js';
import {
  buildPeerSet,
  decodePeerSet,
  diffPeerSets,
  encodePeerSet,
  isIpv4,
  isNodeName,
} from '../../../lib/peerSet/index.js';

describe('buildPeerSet', () => {
  it('names nodes BASENAME@IP, unique and sorted', () => {
    expect(buildPeerSet('shop', ['10.0.2.9', '10.0.1.5', '10.0.2.9']).nodes).toEqual([
      'shop@10.0.1.5',
      'shop@10.0.2.9',
    ]);
  });

  it('gives the same set whatever the order of the addresses', () => {
    const addresses = ['10.1.1.1', '10.0.0.2', '192.168.0.1', '10.0.0.10'];
    expect(buildPeerSet('a', addresses).nodes).toEqual(buildPeerSet('a', [...addresses].reverse()).nodes);
  });

  it('leaves out and reports addresses that are not dotted-quad IPv4', () => {
    const built = buildPeerSet('shop', [
      '10.0.0.1',
      '10.0.0.256',
      '010.0.0.1',
      'fe80::1',
      '10.0.0',
      'shop@10.0.0.2',
      '',
    ]);
    expect(built.nodes).toEqual(['shop@10.0.0.1']);
    expect(built.rejected).toEqual(['10.0.0.256', '010.0.0.1', 'fe80::1', '10.0.0', 'shop@10.0.0.2', '']);
  });

  it('refuses a basename the Elixir side would reject', () => {
    expect(() => buildPeerSet('shop@x', [])).toThrow(ConfigError);
  });

  it('builds an empty set from no tasks', () => {
    expect(buildPeerSet('shop', [])).toEqual({ nodes: [], rejected: [] });
  });
});

describe('isIpv4 and isNodeName', () => {
  it.each(['0.0.0.0', '10.0.0.1', '255.255.255.255', '172.31.5.199'])('accepts %s', (ip) => {
    expect(isIpv4(ip)).toBe(true);
  });
  it.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4\n', '01.2.3.4', '1.2.3.-4', 'a.b.c.d'])(
    'rejects %j',
    (ip) => {
      expect(isIpv4(ip)).toBe(false);
    },
  );
  it('checks both halves of a node name', () => {
    expect(isNodeName('my_app-1@10.0.0.1')).toBe(true);
    expect(isNodeName('@10.0.0.1')).toBe(false);
    expect(isNodeName('my.app@10.0.0.1')).toBe(false);
    expect(isNodeName('app@host.local')).toBe(false);
    expect(isNodeName('app@10.0.0.1@x')).toBe(false);
  });
});

describe('encodePeerSet and decodePeerSet', () => {
  it('writes the versioned document with no whitespace or timestamps', () => {
    expect(encodePeerSet(['shop@10.0.1.5', 'shop@10.0.2.9'])).toBe(
      '{"version":1,"nodes":["shop@10.0.1.5","shop@10.0.2.9"]}',
    );
  });

  it('reads back what it writes', () => {
    const nodes = ['shop@10.0.1.5', 'shop@10.0.2.9'];
    expect(decodePeerSet(encodePeerSet(nodes))).toEqual(nodes);
  });

  it.each([
    '',
    'not json',
    'null',
    '[]',
    '{"nodes":[]}',
    '{"version":2,"nodes":[]}',
    '{"version":1,"nodes":"x"}',
    '{"version":1,"nodes":["bad name"]}',
  ])('returns undefined for the malformed value %j', (value) => {
    expect(decodePeerSet(value)).toBeUndefined();
  });
});

describe('diffPeerSets', () => {
  it('lists added and removed nodes', () => {
    expect(diffPeerSets(['a@10.0.0.1', 'a@10.0.0.2'], ['a@10.0.0.2', 'a@10.0.0.3'])).toEqual({
      added: ['a@10.0.0.3'],
      removed: ['a@10.0.0.1'],
    });
  });
  it('is empty for equal sets', () => {
    expect(diffPeerSets(['a@10.0.0.1'], ['a@10.0.0.1'])).toEqual({ added: [], removed: [] });
  });
});
