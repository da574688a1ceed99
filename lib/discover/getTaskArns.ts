import { GetResourcesCommand, type ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { countedCall, type ApiCalls } from '../apiCalls.js';
import { GET_RESOURCES_PAGE_SIZE } from '../constants.js';
import { DiscoveryError, describeError } from '../errors.js';

const API = 'tag:GetResources';

/**
 * Lists the ARNs of ECS tasks carrying the tags, following every page (pages can be short before the end).
 * The Tagging API also returns stopped tasks and tasks of every cluster; callers filter.
 *
 * @param client - Resource Groups Tagging API client
 * @param taskTags - tag key -> accepted values
 * @param calls - the run's API call counters
 * @throws DiscoveryError when a page cannot be read
 */
export const getTaskArns = async (
  client: ResourceGroupsTaggingAPIClient,
  taskTags: Record<string, string[]>,
  calls: ApiCalls,
): Promise<string[]> => {
  const arns = new Set<string>();
  const TagFilters = Object.entries(taskTags).map(([Key, Values]) => ({ Key, Values }));
  let PaginationToken: string | undefined;
  do {
    const input = {
      ResourceTypeFilters: ['ecs:task'],
      TagFilters,
      ResourcesPerPage: GET_RESOURCES_PAGE_SIZE,
      ...(PaginationToken ? { PaginationToken } : {}),
    };
    let page;
    try {
      page = await countedCall(calls, API, () => client.send(new GetResourcesCommand(input)));
    } catch (error) {
      throw new DiscoveryError(API, describeError(error), { cause: error });
    }
    for (const mapping of page.ResourceTagMappingList ?? []) {
      if (mapping.ResourceARN) arns.add(mapping.ResourceARN);
    }
    PaginationToken = page.PaginationToken;
  } while (PaginationToken);
  return [...arns];
};
