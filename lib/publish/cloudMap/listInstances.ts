import { ListInstancesCommand, type ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import * as z from 'zod/mini';
import { checkAnswer } from '../../answer.js';
import { InvalidResponseError } from '../../errors.js';
import { awsCall, type RunScope } from '../../runScope.js';
import { LIST_INSTANCES_MAX_PAGES, LIST_INSTANCES_PAGE_SIZE } from './constants.js';
import { CloudMapError } from './errors.js';
import type { Instance } from './instances.js';

const API = 'servicediscovery:ListInstances';

// Every page carries its list; a page without one is not "no instances" (a `{}` answer must fail the run).
const page = z.object({
  Instances: z.array(
    z.object({ Id: z.string().check(z.minLength(1)), Attributes: z.optional(z.record(z.string(), z.string())) }),
  ),
  NextToken: z.optional(z.string()),
});

/**
 * Lists the instances registered in a Cloud Map service, following every page.
 *
 * @param client - Cloud Map client
 * @param serviceId - the service (`srv-...`)
 * @param scope - the run's scope (signal, deadline, call counters)
 * @throws CloudMapError when a page cannot be read or is malformed, a NextToken comes back a second time, or
 *   there are more than LIST_INSTANCES_MAX_PAGES pages
 */
export const listInstances = async (
  client: ServiceDiscoveryClient,
  serviceId: string,
  scope: RunScope,
): Promise<Instance[]> => {
  const instances: Instance[] = [];
  const seenTokens = new Set<string>();
  let NextToken: string | undefined;
  try {
    for (let number = 1; ; number += 1) {
      if (number > LIST_INSTANCES_MAX_PAGES) {
        throw new InvalidResponseError(`more than ${LIST_INSTANCES_MAX_PAGES} pages (a pagination loop)`);
      }
      const input = { ServiceId: serviceId, MaxResults: LIST_INSTANCES_PAGE_SIZE, ...(NextToken ? { NextToken } : {}) };
      const answer = checkAnswer(
        page,
        await awsCall(scope, API, (abortSignal) => client.send(new ListInstancesCommand(input), { abortSignal })),
        `page ${number}`,
      );
      for (const { Id, Attributes } of answer.Instances ?? [])
        instances.push({ id: Id!, attributes: Attributes ?? {} });
      NextToken = answer.NextToken;
      if (!NextToken) return instances;
      if (seenTokens.has(NextToken)) {
        throw new InvalidResponseError(`page ${number} returned a NextToken seen before (a pagination loop)`);
      }
      seenTokens.add(NextToken);
    }
  } catch (error) {
    throw new CloudMapError(API, serviceId, undefined, { cause: error });
  }
};
