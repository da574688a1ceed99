import { BASENAME_PATTERN } from '../constants.js';
import { ConfigError } from '../errors.js';

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/**
 * Whether a string is a dotted-quad IPv4 address (no leading zeros, octets 0-255).
 *
 * @param address - the string to check
 */
export const isIpv4 = (address: string): boolean => IPV4.test(address);

/**
 * Whether a string is a node name the Elixir side accepts: `BASENAME@IPv4`.
 *
 * @param node - e.g. `shop@10.0.1.5`
 */
export const isNodeName = (node: string): boolean => {
  const at = node.indexOf('@');
  return at > 0 && BASENAME_PATTERN.test(node.slice(0, at)) && isIpv4(node.slice(at + 1));
};

/** Node names built from task addresses. */
export interface BuiltPeerSet {
  /** `BASENAME@IPv4`, unique, sorted. */
  nodes: string[];
  /** Addresses that are not IPv4 and were left out. */
  rejected: string[];
}

/**
 * Builds the peer set: one node name per distinct address, validated, sorted.
 *
 * @param basename - the node name part before `@`
 * @param addresses - private IPv4 addresses of the running tasks
 * @throws ConfigError for a basename the Elixir side would reject
 * @example
 * buildPeerSet('shop', ['10.0.2.9', '10.0.1.5']).nodes; // ['shop@10.0.1.5', 'shop@10.0.2.9']
 */
export const buildPeerSet = (basename: string, addresses: readonly string[]): BuiltPeerSet => {
  if (!BASENAME_PATTERN.test(basename)) {
    throw new ConfigError(`NODE_BASENAME ${JSON.stringify(basename)} must be 1-64 letters, digits, _ and -`);
  }
  const valid = addresses.filter(isIpv4);
  return {
    nodes: [...new Set(valid.map((ip) => `${basename}@${ip}`))].sort(),
    rejected: addresses.filter((address) => !isIpv4(address)),
  };
};
