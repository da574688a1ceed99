import {
  DeregisterInstanceCommand,
  InstanceNotFound,
  RegisterInstanceCommand,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import pLimit from 'p-limit';
import * as z from 'zod/mini';
import { checkAnswer } from '../../answer.js';
import { WRITE_MIN_REMAINING_MS } from '../../constants.js';
import { RunDeadlineError } from '../../errors.js';
import { abortReason, awsCall, type RunScope } from '../../runScope.js';
import { CLOUD_MAP_WRITE_CONCURRENCY } from './constants.js';
import { CLOUD_MAP_WRITES, CloudMapError } from './errors.js';
import type { Instance } from './instances.js';

const [REGISTER, DEREGISTER] = CLOUD_MAP_WRITES;

// Both calls are asynchronous in Cloud Map: the OperationId is what says the request was accepted.
const operation = z.object({ OperationId: z.string().check(z.minLength(1)) });

/** Refuses to start a call the run might not finish before its deadline (or after its invocation ended). */
const requireTimeToWrite = (scope: RunScope): void => {
  if (scope.signal.aborted) throw abortReason(scope);
  const left = scope.deadline - scope.now();
  if (left < WRITE_MIN_REMAINING_MS) {
    throw new RunDeadlineError(
      `only ${Math.max(0, Math.round(left))} ms left of the run's time budget, under the ${WRITE_MIN_REMAINING_MS} ms ` +
        'a write needs: not writing',
    );
  }
};

/**
 * Runs one call per item, CLOUD_MAP_WRITE_CONCURRENCY at a time; after the first failure nothing more is sent,
 * and that failure is thrown once the calls in flight have ended.
 */
const each = async <T>(items: readonly T[], call: (item: T) => Promise<void>): Promise<void> => {
  const limit = pLimit(CLOUD_MAP_WRITE_CONCURRENCY);
  let failure: { error: unknown } | undefined;
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (failure) return;
        await call(item).catch((error: unknown) => {
          failure ??= { error };
        });
      }),
    ),
  );
  if (failure) throw failure.error;
};

/**
 * Registers instances (RegisterInstance creates or, for an existing id, replaces the attributes). The SDK retries
 * throttling, 5xx, timeouts and resets (the call is idempotent for an instance id).
 *
 * @param client - Cloud Map client
 * @param serviceId - the service (`srv-...`)
 * @param instances - what to register
 * @param scope - the run's scope (signal, deadline, call counters)
 * @throws CloudMapError naming the first instance whose registration failed; later ones are not sent
 */
export const registerInstances = (
  client: ServiceDiscoveryClient,
  serviceId: string,
  instances: readonly Instance[],
  scope: RunScope,
): Promise<void> =>
  each(instances, async ({ id, attributes }) => {
    try {
      requireTimeToWrite(scope);
      const command = new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: id, Attributes: attributes });
      const answer = await awsCall(scope, REGISTER, (abortSignal) => client.send(command, { abortSignal }));
      checkAnswer(operation, answer, `instance ${id}`);
    } catch (error) {
      throw new CloudMapError(REGISTER, serviceId, id, { cause: error });
    }
  });

/**
 * Deregisters instances. An instance that is already gone (InstanceNotFound) counts as deregistered.
 *
 * @param client - Cloud Map client
 * @param serviceId - the service (`srv-...`)
 * @param ids - the instance ids
 * @param scope - the run's scope (signal, deadline, call counters)
 * @throws CloudMapError naming the first instance whose deregistration failed; later ones are not sent
 */
export const deregisterInstances = (
  client: ServiceDiscoveryClient,
  serviceId: string,
  ids: readonly string[],
  scope: RunScope,
): Promise<void> =>
  each(ids, async (id) => {
    try {
      requireTimeToWrite(scope);
      const command = new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: id });
      const answer = await awsCall(scope, DEREGISTER, (abortSignal) => client.send(command, { abortSignal }));
      checkAnswer(operation, answer, `instance ${id}`);
    } catch (error) {
      if (error instanceof InstanceNotFound) return;
      throw new CloudMapError(DEREGISTER, serviceId, id, { cause: error });
    }
  });
