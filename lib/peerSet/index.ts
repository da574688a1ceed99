export { buildPeerSet, isIpv4, isNodeName, type BuiltPeerSet } from './build.js';
export { decodePeerSet, encodePeerSet } from './codec.js';
export { diffPeerSets, type PeerSetDiff } from './diff.js';
