import type { Task } from '@aws-sdk/client-ecs';
import { LOG_LIST_MAX } from '../constants.js';
import { TaskAddressError } from '../errors.js';
import { capText, listSample } from '../logBounds.js';
import { isIpv4 } from '../peerSet/index.js';

/** Why a described task is not a peer. */
export type SkipReason = 'not-running' | 'stopping';

/** A task's verdict: a peer at an address, skipped, or running but without a usable address (a misconfiguration). */
export type TaskVerdict = { ip: string } | { skip: SkipReason } | { unaddressable: string };

const ENI = 'ElasticNetworkInterface';

/**
 * The task's private IPv4: the ENI attachment's `privateIPv4Address`, else the first container
 * network interface's `privateIpv4Address`.
 *
 * @param task - a task from DescribeTasks
 */
export const privateIpv4 = (task: Task): string | undefined => {
  for (const attachment of task.attachments ?? []) {
    const detail = attachment.details?.find((entry) => entry.name === 'privateIPv4Address' && entry.value);
    if (detail?.value) return detail.value;
  }
  for (const container of task.containers ?? []) {
    const address = container.networkInterfaces?.find((eni) => eni.privateIpv4Address)?.privateIpv4Address;
    if (address) return address;
  }
  return undefined;
};

/** Why a running task has no private IPv4, named by the network mode its answer shows. */
const whyNoAddress = (task: Task): string => {
  const enis = (task.attachments ?? []).filter((attachment) => attachment.type === ENI);
  const ipv6 =
    enis.some((eni) => eni.details?.some((entry) => entry.name === 'ipv6Address' && entry.value)) ||
    (task.containers ?? []).some((container) => container.networkInterfaces?.some((eni) => eni.ipv6Address));
  if (ipv6) return 'network mode awsvpc with an IPv6 address only';
  if (enis.length > 0) return 'network mode awsvpc, but its ENI has no private IPv4 address';
  return 'network mode bridge or host (no ENI attached)';
};

/**
 * Decides whether a task is a peer: running, meant to keep running, and reachable on a private IPv4.
 *
 * @param task - a task from DescribeTasks
 * @returns the IPv4 address, why the task is skipped, or why a running task has no usable address
 */
export const taskPeer = (task: Task): TaskVerdict => {
  if (task.lastStatus !== 'RUNNING') return { skip: 'not-running' };
  if (task.desiredStatus !== 'RUNNING') return { skip: 'stopping' };
  const ip = privateIpv4(task);
  if (ip === undefined) return { unaddressable: whyNoAddress(task) };
  return isIpv4(ip)
    ? { ip }
    : { unaddressable: `private IPv4 address ${JSON.stringify(ip.slice(0, 64))} is not an IPv4 address` };
};

/**
 * The addresses of the peers among described tasks, and how many tasks were skipped for each reason.
 *
 * @param tasks - tasks from DescribeTasks
 * @throws TaskAddressError when a running task has no usable private IPv4: publishing without it would be a
 *   partial set, and the fix (awsvpc) is the operator's
 */
export const peersOf = (
  tasks: readonly Task[],
): { addresses: string[]; skipped: Partial<Record<SkipReason, number>> } => {
  const addresses: string[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  const unaddressable: string[] = [];
  for (const task of tasks) {
    const verdict = taskPeer(task);
    if ('ip' in verdict) addresses.push(verdict.ip);
    else if ('skip' in verdict) skipped[verdict.skip] = (skipped[verdict.skip] ?? 0) + 1;
    else unaddressable.push(`${capText(task.taskArn ?? '?', 200)} (${verdict.unaddressable})`);
  }
  if (unaddressable.length > 0) {
    throw new TaskAddressError(
      `${unaddressable.length} running task(s) have no usable private IPv4 address: ` +
        `${listSample(unaddressable, LOG_LIST_MAX / 4)}. ecs-peers publishes BASENAME@IPv4 and needs tasks in awsvpc ` +
        'network mode with an IPv4 address (Fargate tasks always are): set networkMode to awsvpc in the task ' +
        'definition, in subnets with IPv4; the peer set was not published and keeps its last value',
    );
  }
  return { addresses, skipped };
};
