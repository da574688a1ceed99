import { GetResourcesCommand, type ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import * as z from 'zod/mini';
import { checkAnswer } from '../answer.js';
import { GET_RESOURCES_MAX_PAGES, GET_RESOURCES_PAGE_SIZE, TASK_ARN_MAX_CHARS } from '../constants.js';
import { DiscoveryError, describeError, InvalidResponseError, PageLimitError } from '../errors.js';
import { awsCall, type RunScope } from '../runScope.js';

const API = 'tag:GetResources';

// Every page carries its list (empty on a short page); a page without one is not "the last page".
const page = z.object({
  ResourceTagMappingList: z.array(
    z.object({
      ResourceARN: z.string().check(z.maxLength(TASK_ARN_MAX_CHARS), z.regex(/^arn:[\w-]+:ecs:[\w-]+:\d{12}:task\/./)),
    }),
  ),
  PaginationToken: z.optional(z.string()),
});

/**
 * Lists the ARNs of ECS tasks carrying the tags, following every page (pages can be short before the end).
 * The Tagging API also returns stopped tasks and tasks of every cluster; callers filter.
 *
 * @param client - Resource Groups Tagging API client
 * @param taskTags - tag key -> accepted values
 * @param scope - the run's scope (signal, deadline, call counters)
 * @throws DiscoveryError when a page cannot be read or is malformed, a PaginationToken comes back a second
 *   time (a loop), or there are more than GET_RESOURCES_MAX_PAGES pages
 */
export const getTaskArns = async (
  client: ResourceGroupsTaggingAPIClient,
  taskTags: Record<string, string[]>,
  scope: RunScope,
): Promise<string[]> => {
  const arns = new Set<string>();
  const TagFilters = Object.entries(taskTags).map(([Key, Values]) => ({ Key, Values }));
  const seenTokens = new Map<string, number>(); // token -> the page that returned it
  let PaginationToken: string | undefined;
  for (let number = 1; ; number += 1) {
    if (number > GET_RESOURCES_MAX_PAGES) {
      const message =
        `more than ${GET_RESOURCES_MAX_PAGES} pages (${GET_RESOURCES_MAX_PAGES * GET_RESOURCES_PAGE_SIZE} task ARNs) ` +
        'match TASK_TAGS, far more than one app can publish: narrow TASK_TAGS, or set ECS_CLUSTER';
      throw new DiscoveryError(API, message, { cause: new PageLimitError(message, arns.size) });
    }
    const input = {
      ResourceTypeFilters: ['ecs:task'],
      TagFilters,
      ResourcesPerPage: GET_RESOURCES_PAGE_SIZE,
      ...(PaginationToken ? { PaginationToken } : {}),
    };
    let answer;
    try {
      answer = checkAnswer(
        page,
        await awsCall(scope, API, (abortSignal) => client.send(new GetResourcesCommand(input), { abortSignal })),
        `page ${number}`,
      );
    } catch (error) {
      throw new DiscoveryError(API, describeError(error), { cause: error });
    }
    for (const mapping of answer.ResourceTagMappingList ?? []) arns.add(mapping.ResourceARN!);
    PaginationToken = answer.PaginationToken;
    if (!PaginationToken) return [...arns];
    const earlier = seenTokens.get(PaginationToken);
    if (earlier !== undefined) {
      const loop = new InvalidResponseError(
        `page ${number} returned the PaginationToken page ${earlier} returned (a pagination loop)`,
      );
      throw new DiscoveryError(API, describeError(loop), { cause: loop });
    }
    seenTokens.set(PaginationToken, number);
  }
};
