/**
 * The production clients against an endpoint whose connections never open: a listening socket on loopback that
 * never accepts, its accept queue filled, so that the kernel drops further SYNs and a connect stalls as it does
 * towards a blackholed address. Only HTTP_TIMEOUTS.connectionTimeout can end such a request; the SDK then retries
 * it like any transient error.
 */
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createClients } from '../../lib/clients.js';
import { CONNECT_TIMEOUT_MS } from '../../lib/constants.js';

let listener: ChildProcess;
let port: number;
const fillers: Socket[] = [];

// Node.js accepts every connection it listens for, so the socket that never accepts is Python's.
const LISTEN = [
  'import socket, sys, time',
  's = socket.socket()',
  "s.bind(('127.0.0.1', 0))",
  's.listen(0)',
  'print(s.getsockname()[1], flush=True)',
  'sys.stdin.read()',
].join('\n');

/** Opens a connection; resolves whether it opened within `ms`. */
const opens = (ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    fillers.push(socket);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

beforeAll(async () => {
  if (spawnSync('python3', ['--version']).status !== 0) {
    throw new Error('python3 is needed for the never-accepting listener: apt-get install python3');
  }
  listener = spawn('python3', ['-c', LISTEN], { stdio: ['pipe', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    listener.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    listener.once('exit', (code) => reject(new Error(`the listener exited (${code})`)));
  });
  // Fill the accept queue: once a connection no longer opens, every further SYN is dropped.
  for (let tries = 0; tries < 16 && (await opens(1_000)); tries += 1);
  if (await opens(1_000)) throw new Error('the accept queue never filled: connections keep opening');
}, 60_000);

afterAll(() => {
  for (const socket of fillers) socket.destroy();
  listener?.stdin?.end();
  listener?.kill();
});

const clientsAt = (maxAttempts: number) =>
  createClients({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts,
  });

describe('connectionTimeout', () => {
  it(`ends a connect that never completes with a TimeoutError after ${CONNECT_TIMEOUT_MS} ms, retried by the SDK`, async () => {
    const error = (await clientsAt(2)
      .ssm.send(new GetParameterCommand({ Name: '/ecs-peers/shop' }))
      .catch((caught: unknown) => caught)) as Error & { $metadata?: { attempts?: number } };

    expect(error.name).toBe('TimeoutError');
    expect(error.message).toMatch(
      new RegExp(`did not establish a connection with the server within the configured timeout of ${CONNECT_TIMEOUT_MS} ms`),
    );
    expect(error.$metadata?.attempts).toBe(2);
  }, 60_000);
});
