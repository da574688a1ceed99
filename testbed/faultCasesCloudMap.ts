/**
 * The fault matrix's Cloud Map cases: every transport and protocol fault on each Cloud Map call a run makes
 * (ListInstances, RegisterInstance, DeregisterInstance), and discovery failures with Cloud Map as the store. Each
 * case's service starts with the last good instances; the run publishes to Cloud Map alone, for the cluster
 * shop-canary (four peers), so that a case costs a few writes, not 250: discovery still reads every page and
 * chunk of the tagged tasks of all clusters.
 *
 * What a case may leave: after a failed discovery or ListInstances, exactly the last good instances (no
 * deregistration, no registration); after a failed registration, the last good ones plus some of the peers
 * (`added`: registered first, nothing deregistered); after a failed deregistration, every peer plus some of the
 * last good ones (`superset`). Never fewer peers than the full set with a last good one gone.
 */
import { CANARY, type Stored } from './faultBed.js';
import type { FaultCase } from './faultCases.js';
import type { Fault } from './faultProxy.js';

/** A Cloud Map operation the run calls. */
export type CloudMapApi = 'ListInstances' | 'RegisterInstance' | 'DeregisterInstance';

const NAME: Record<CloudMapApi, RegExp> = {
  ListInstances: /servicediscovery:ListInstances on service srv-/,
  RegisterInstance: /servicediscovery:RegisterInstance on instance [\w-]+ of service srv-/,
  DeregisterInstance: /servicediscovery:DeregisterInstance on instance last-good-\d of service srv-/,
};

/**
 * The call a one-off fault hits: ListInstances has one page (two last good instances), four registrations (the
 * second is in flight with the others), and the two deregistrations come last.
 */
const ONCE: Record<CloudMapApi, number> = { ListInstances: 1, RegisterInstance: 2, DeregisterInstance: 1 };

/** What each API's failure may leave behind. */
const LEFT: Record<CloudMapApi, readonly Stored[]> = {
  ListInstances: ['unchanged'],
  // A truncated answer comes after Cloud Map registered: every peer may be in, none of the old ones out.
  RegisterInstance: ['unchanged', 'added', 'superset'],
  DeregisterInstance: ['superset'],
};

type Promised = FaultCase['expect'];
const KINDS: { label: string; fault: Fault; once: boolean; expect: Promised }[] = [
  { label: 'throttled once', fault: { kind: 'throttle' }, once: true, expect: 'full' },
  { label: 'throttled on every call', fault: { kind: 'throttle' }, once: false, expect: 'nothing' },
  { label: '500 once', fault: { kind: 'status', status: 500 }, once: true, expect: 'full' },
  { label: '503 on every call', fault: { kind: 'status', status: 503 }, once: false, expect: 'nothing' },
  { label: 'stalls once', fault: { kind: 'stall' }, once: true, expect: 'full' },
  { label: 'stalls on every call', fault: { kind: 'stall' }, once: false, expect: 'nothing' },
  { label: 'connection reset once', fault: { kind: 'reset' }, once: true, expect: 'full' },
  { label: 'connection reset on every call', fault: { kind: 'reset' }, once: false, expect: 'nothing' },
  { label: 'body truncated once', fault: { kind: 'truncate' }, once: true, expect: 'full' },
  { label: 'body truncated on every call', fault: { kind: 'truncate' }, once: false, expect: 'nothing' },
  { label: 'answers {}', fault: { kind: 'body', body: '{}' }, once: true, expect: 'nothing' },
  { label: 'answers an empty 200 body', fault: { kind: 'body', body: '' }, once: true, expect: 'nothing' },
  { label: 'access denied', fault: { kind: 'error', type: 'AccessDeniedException' }, once: true, expect: 'nothing' },
];

const transportCases = (['ListInstances', 'RegisterInstance', 'DeregisterInstance'] as const).flatMap((api) =>
  KINDS.map((kind): FaultCase => ({
    id: `${api}: ${kind.label}`,
    api,
    store: 'cloudMap',
    env: { ECS_CLUSTER: CANARY },
    rules: () => [{ api, calls: kind.once ? [ONCE[api]] : { from: 1 }, fault: kind.fault }],
    // A truncated deregister answer comes after Cloud Map acted: the instance may be gone, the run failed or not.
    expect:
      api === 'DeregisterInstance' && kind.label === 'body truncated on every call' ? 'full-or-nothing' : kind.expect,
    error: NAME[api],
    leftAfterFailure: LEFT[api],
  })),
);

// Discovery that fails with Cloud Map as the store: not one instance may be deregistered (or registered).
const discoveryCases: FaultCase[] = [
  ['GetResources', '503 on every call', { kind: 'status', status: 503 }, /tag:GetResources/],
  ['GetResources', 'answers {} on page 2', { kind: 'body', body: '{}' }, /tag:GetResources/],
  ['DescribeTasks', 'throttled on every call', { kind: 'throttle' }, /ecs:DescribeTasks/],
  ['DescribeTasks', 'connection reset on every call', { kind: 'reset' }, /ecs:DescribeTasks/],
].map(([api, label, fault, error]) => ({
  id: `ListInstances: no deregistration after ${String(api)} ${String(label)}`,
  api: 'ListInstances',
  store: 'cloudMap',
  env: { ECS_CLUSTER: CANARY },
  rules: () => [
    { api: api as string, calls: String(label).includes('page 2') ? [2] : { from: 1 }, fault: fault as Fault },
  ],
  expect: 'nothing',
  error: error as RegExp,
}));

/** Every Cloud Map case. */
export const CLOUD_MAP_CASES: readonly FaultCase[] = [...transportCases, ...discoveryCases];
