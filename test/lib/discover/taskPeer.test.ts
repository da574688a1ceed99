import type { Task } from '@aws-sdk/client-ecs';
import { privateIpv4, taskPeer } from '../../../lib/discover/index.js';

const eni = (ip: string): Task['attachments'] => [
  {
    type: 'ElasticNetworkInterface',
    details: [
      { name: 'subnetId', value: 'subnet-1' },
      { name: 'privateIPv4Address', value: ip },
    ],
  },
];

describe('taskPeer', () => {
  it('takes a running task with an ENI address as a peer', () => {
    expect(taskPeer({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', attachments: eni('10.0.0.5') })).toEqual({
      ip: '10.0.0.5',
    });
  });

  it('falls back to the container network interface address', () => {
    const task: Task = {
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      attachments: [{ type: 'ElasticNetworkInterface', details: [] }],
      containers: [{ name: 'app' }, { name: 'app2', networkInterfaces: [{ privateIpv4Address: '10.0.0.6' }] }],
    };
    expect(privateIpv4(task)).toBe('10.0.0.6');
    expect(taskPeer(task)).toEqual({ ip: '10.0.0.6' });
  });

  it.each([
    ['PENDING', 'RUNNING', 'not-running'],
    ['STOPPED', 'STOPPED', 'not-running'],
    ['RUNNING', 'STOPPED', 'stopping'],
  ] as const)('skips a task %s with desired %s as %s', (lastStatus, desiredStatus, skip) => {
    expect(taskPeer({ lastStatus, desiredStatus, attachments: eni('10.0.0.5') })).toEqual({ skip });
  });

  it('skips a running task without a private IPv4', () => {
    expect(taskPeer({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' })).toEqual({ skip: 'no-private-ip' });
  });
});
