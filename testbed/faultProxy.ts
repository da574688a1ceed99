/**
 * A fault-injection proxy on loopback, in front of moto server: per API (the `X-Amz-Target` operation, or the
 * query protocol's `Action`) and per call number it throttles, answers 5xx or a named AWS error, stalls, resets
 * the connection, truncates the body, answers `{}` or an empty body, or rewrites moto's answer (pagination
 * tokens, foreign tasks, dropped fields). Point an SDK at it with `AWS_ENDPOINT_URL`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A JSON answer as moto gave it, to be rewritten. */
export type Answer = Record<string, any>;

/** What the proxy does to one call. */
export type Fault =
  /** 400 with the service's own throttling error. */
  | { kind: 'throttle' }
  /** 500 or 503 with the service's server error. */
  | { kind: 'status'; status: 500 | 503 }
  /** An AWS error by name (AccessDeniedException, TooManyUpdates ...), 400 unless told. */
  | { kind: 'error'; type: string; status?: number }
  /** Reads the request and never answers (the client's timeout has to end it). */
  | { kind: 'stall' }
  /** Closes the connection with a TCP reset before answering. */
  | { kind: 'reset' }
  /** Forwards, then sends half of moto's body under the full Content-Length and closes the connection. */
  | { kind: 'truncate' }
  /** Forwards, then sends the first half of moto's body as a complete (invalid JSON) answer. */
  | { kind: 'cut' }
  /** Answers 200 with this body, without forwarding. */
  | { kind: 'body'; body: string }
  /** Forwards, then answers 200 with moto's JSON answer rewritten. */
  | { kind: 'rewrite'; rewrite: (answer: Answer, request: Answer, call: number) => Answer }
  /** Answers 200 with this JSON without forwarding, computed from the request. */
  | { kind: 'answer'; answer: (request: Answer, call: number) => Answer }
  /** Forwards at once, delivers moto's answer when `release` resolves (dropped if the client gave up first). */
  | { kind: 'hold'; release: Promise<void> }
  /** Forwards only when `open` resolves, and only if the client is still waiting: a request that reaches AWS late. */
  | { kind: 'gate'; open: Promise<void> };

interface Forwarded {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** When a fault applies. */
export interface FaultRule {
  /** Operation name, e.g. `GetResources`, `DescribeTasks`, `GetParameter`, `PutParameter`. */
  api: string;
  /** 1-based call numbers of that API; `{ from: n }` for every call from n on. Default: every call. */
  calls?: readonly number[] | { from: number };
  fault: Fault;
}

/** One call the proxy saw. */
export interface ProxiedCall {
  api: string;
  call: number;
  fault?: Fault['kind'];
  at: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`. */
  endpoint: string;
  /** Replaces the rules and restarts the call numbers. */
  plan: (rules: readonly FaultRule[]) => void;
  /** Every call since the last `plan`, in arrival order. */
  calls: () => readonly ProxiedCall[];
  /** How many calls of `api` arrived since the last `plan`. */
  count: (api: string) => number;
  /** How many calls of `api` a `hold` fault holds with moto's answer in hand (moto has acted on them). */
  held: (api: string) => number;
  stop: () => Promise<void>;
}

/** The service behind an `X-Amz-Target` prefix, for error names. */
const serviceOf = (target: string): 'tagging' | 'ecs' | 'ssm' | 'other' => {
  if (target.startsWith('ResourceGroupsTaggingAPI')) return 'tagging';
  if (target.startsWith('AmazonEC2ContainerService')) return 'ecs';
  if (target.startsWith('AmazonSSM')) return 'ssm';
  return 'other';
};

// The error codes each service's API model names (awsJson1_1 `__type`).
const THROTTLE = { tagging: 'ThrottledException', ecs: 'ThrottlingException', ssm: 'ThrottlingException' };
const SERVER = { tagging: 'InternalServiceException', ecs: 'ServerException', ssm: 'InternalServerError' };

const applies = (rule: FaultRule, api: string, call: number): boolean => {
  if (rule.api !== api) return false;
  if (rule.calls === undefined) return true;
  if ('from' in rule.calls) return call >= rule.calls.from;
  return rule.calls.includes(call);
};

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const operationOf = (request: IncomingMessage, body: Buffer): { api: string; target: string } => {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (target) return { api: target.slice(target.lastIndexOf('.') + 1), target };
  const action = new URLSearchParams(body.toString()).get('Action');
  return { api: action ?? `${request.method} ${request.url}`, target: '' };
};

const parse = (text: string): Answer => {
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as Answer);
  } catch {
    return {};
  }
};

// moto 5 keeps whether a DescribeTasks answer carries the tags in state its server threads share (a class
// attribute of its ECS response class, set per request): while one DescribeTasks without `include: ["TAGS"]`
// is answered, another with it can come back without `tags`. AWS has no such race; the reconciler takes such
// an answer for what it is and falls back (test/faults/tagsRace.test.ts shows it on moto itself). So that
// every other case tests what it says, the proxies of a process send DescribeTasks to moto one at a time.
let describing: Promise<unknown> = Promise.resolve();
const oneDescribeAtATime = <T>(send: () => Promise<T>): Promise<T> => {
  const sent = describing.then(send, send);
  describing = sent.catch(() => undefined);
  return sent;
};

/**
 * Starts a fault proxy on a free loopback port in front of `upstream` (moto's endpoint).
 *
 * @param upstream - where calls without a fault (and faults that forward) go
 * @example
 * const proxy = await startFaultProxy(moto.endpoint);
 * proxy.plan([{ api: 'DescribeTasks', calls: [1], fault: { kind: 'throttle' } }]);
 */
export const startFaultProxy = async (upstream: string): Promise<FaultProxy> => {
  let rules: readonly FaultRule[] = [];
  let log: ProxiedCall[] = [];
  let counters = new Map<string, number>();
  let held = new Map<string, number>();
  const sockets = new Set<Socket>();

  const forwardNow = async (request: IncomingMessage, body: Buffer): Promise<Forwarded> => {
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([name, value]) =>
        name === 'host' || name === 'content-length' || name === 'connection' || value === undefined
          ? []
          : [[name, String(value)]],
      ),
    );
    const answer = await fetch(`${upstream}${request.url}`, {
      method: request.method,
      headers,
      ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
    });
    const answerHeaders = Object.fromEntries(
      [...answer.headers].filter(
        ([name]) => !['content-length', 'content-encoding', 'transfer-encoding'].includes(name),
      ),
    );
    return { status: answer.status, headers: answerHeaders, body: Buffer.from(await answer.arrayBuffer()) };
  };

  // moto's GetResources tokens work once; AWS's for 15 minutes. A page asked for again (a retry after a broken
  // answer, a pagination loop) is answered as moto first answered it, as AWS would.
  const pages = new Map<string, Promise<Forwarded>>();

  const forward = (request: IncomingMessage, body: Buffer, api: string): Promise<Forwarded> => {
    if (api === 'DescribeTasks') return oneDescribeAtATime(() => forwardNow(request, body));
    if (api !== 'GetResources' || !body.includes('PaginationToken')) return forwardNow(request, body);
    const key = body.toString();
    if (!pages.has(key)) pages.set(key, forwardNow(request, body));
    return pages.get(key)!;
  };

  const send = (response: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string) => {
    if (response.destroyed) return;
    response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  };

  const awsError = (response: ServerResponse, status: number, type: string, message: string) =>
    send(
      response,
      status,
      { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': 'fault-proxy' },
      JSON.stringify({ __type: type, message }),
    );

  const json = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'fault-proxy' };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const { api, target } = operationOf(request, body);
    const call = (counters.get(api) ?? 0) + 1;
    counters.set(api, call);
    const fault = rules.find((rule) => applies(rule, api, call))?.fault;
    log.push({ api, call, at: Date.now(), ...(fault ? { fault: fault.kind } : {}) });
    const service = serviceOf(target);
    if (!fault) {
      const answer = await forward(request, body, api);
      return send(response, answer.status, answer.headers, answer.body);
    }
    switch (fault.kind) {
      case 'throttle':
        return awsError(response, 400, service === 'other' ? 'Throttling' : THROTTLE[service], 'Rate exceeded');
      case 'status':
        return fault.status === 503
          ? awsError(response, 503, 'ServiceUnavailable', 'Service is unavailable, try again later')
          : awsError(response, 500, service === 'other' ? 'InternalFailure' : SERVER[service], 'Internal error');
      case 'error':
        return awsError(response, fault.status ?? 400, fault.type, `${fault.type} (injected by the fault proxy)`);
      case 'stall':
        return; // the socket stays open until the client or stop() closes it
      case 'reset':
        request.socket.resetAndDestroy();
        return;
      case 'body':
        return send(response, 200, json, fault.body);
      case 'answer':
        return send(response, 200, json, JSON.stringify(fault.answer(parse(body.toString()), call)));
      case 'gate': {
        await fault.open;
        if (response.destroyed || request.socket.destroyed) return;
        const answer = await forward(request, body, api);
        return send(response, answer.status, answer.headers, answer.body);
      }
      default:
        break;
    }
    const answer = await forward(request, body, api);
    switch (fault.kind) {
      case 'truncate': {
        response.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        response.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        setTimeout(() => request.socket.destroy(), 20);
        return;
      }
      case 'cut':
        return send(
          response,
          answer.status,
          answer.headers,
          answer.body.subarray(0, Math.floor(answer.body.length / 2)),
        );
      case 'rewrite': {
        const rewritten = fault.rewrite(parse(answer.body.toString()), parse(body.toString()), call);
        return send(response, answer.status, answer.headers, JSON.stringify(rewritten));
      }
      case 'hold':
        held.set(api, (held.get(api) ?? 0) + 1);
        await fault.release;
        return send(response, answer.status, answer.headers, answer.body);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        awsError(response, 502, 'FaultProxyError', error instanceof Error ? error.message : String(error));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    plan: (next) => {
      rules = next;
      pages.clear();
      log = [];
      counters = new Map();
      held = new Map();
    },
    calls: () => log,
    count: (api) => counters.get(api) ?? 0,
    held: (api) => held.get(api) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};
