export { buildPeerSet, isIpv4, isNodeName, type BuiltPeerSet } from './build.js';
export { decodePeerSet, encodePeerSet, peerSetValues, type PeerSetValues } from './codec.js';
export { diffPeerSets, type PeerSetDiff } from './diff.js';
export { decodeV2, encodeV2, parseManifest, partName, type Manifest } from './v2.js';
