import type { Task } from '@aws-sdk/client-ecs';

/** Why a described task is not a peer. */
export type SkipReason = 'not-running' | 'stopping' | 'no-private-ip';

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

/**
 * Decides whether a task is a peer: running, meant to keep running, and reachable on a private IPv4.
 *
 * @param task - a task from DescribeTasks
 * @returns the IPv4 address, or why the task is skipped
 */
export const taskPeer = (task: Task): { ip: string } | { skip: SkipReason } => {
  if (task.lastStatus !== 'RUNNING') return { skip: 'not-running' };
  if (task.desiredStatus !== 'RUNNING') return { skip: 'stopping' };
  const ip = privateIpv4(task);
  return ip === undefined ? { skip: 'no-private-ip' } : { ip };
};
