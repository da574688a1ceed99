import type { Task } from '@aws-sdk/client-ecs';
import { peersOf, privateIpv4, taskPeer } from '../../../lib/discover/index.js';
import { TaskAddressError } from '../../../lib/errors.js';

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

  it.each([
    ['no ENI (bridge or host network mode)', {}, 'network mode bridge or host (no ENI attached)'],
    [
      'an IPv6-only ENI',
      { attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'ipv6Address', value: '2600:1f18::5' }] }] },
      'network mode awsvpc with an IPv6 address only',
    ],
    [
      'an ENI without addresses',
      { attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'subnetId', value: 's' }] }] },
      'network mode awsvpc, but its ENI has no private IPv4 address',
    ],
    [
      'a malformed address',
      { attachments: eni('10.0.0.256') },
      'private IPv4 address "10.0.0.256" is not an IPv4 address',
    ],
  ] as [string, Partial<Task>, string][])(
    'names why a running task with %s has no usable address',
    (_name, task, why) => {
      expect(taskPeer({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', ...task })).toEqual({ unaddressable: why });
    },
  );
});

describe('peersOf', () => {
  const running = (arn: string, extra: Partial<Task> = {}): Task => ({
    taskArn: arn,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    ...extra,
  });

  it('collects the peers addresses and counts the skipped tasks', () => {
    const tasks = [
      running('a', { attachments: eni('10.0.0.1') }),
      running('b', { attachments: eni('10.0.0.2'), desiredStatus: 'STOPPED' }),
      running('c', { lastStatus: 'PENDING' }),
    ];
    expect(peersOf(tasks)).toEqual({ addresses: ['10.0.0.1'], skipped: { stopping: 1, 'not-running': 1 } });
  });

  it('fails naming the network mode and awsvpc when running tasks have no private IPv4, listing a few', () => {
    const tasks = Array.from({ length: 40 }, (_, index) => running(`arn-${index}`));
    const failure = (() => {
      try {
        peersOf([running('ok', { attachments: eni('10.0.0.1') }), ...tasks]);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(failure).toBeInstanceOf(TaskAddressError);
    expect(failure!.message).toMatch(
      /^40 running task\(s\) have no usable private IPv4 address: arn-0 \(network mode bridge or host \(no ENI attached\)\), .* and 35 more\. .*awsvpc network mode/,
    );
    expect(failure!.message).toMatch(/the peer set was not published/);
  });
});
