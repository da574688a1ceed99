import { paginateGetResources, type ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { countCall, type ApiCalls } from '../apiCalls.js';
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
  const pages = paginateGetResources(
    { client, pageSize: GET_RESOURCES_PAGE_SIZE },
    {
      ResourceTypeFilters: ['ecs:task'],
      TagFilters: Object.entries(taskTags).map(([Key, Values]) => ({ Key, Values })),
    },
  );
  try {
    for await (const page of pages) {
      countCall(calls, API);
      for (const mapping of page.ResourceTagMappingList ?? []) {
        if (mapping.ResourceARN) arns.add(mapping.ResourceARN);
      }
    }
  } catch (error) {
    countCall(calls, API);
    throw new DiscoveryError(API, describeError(error), { cause: error });
  }
  return [...arns];
};
