/** Instances one Cloud Map service holds at most (Cloud Map quota, not adjustable). */
export const CLOUD_MAP_MAX_INSTANCES = 1000;

/** ListInstances page size (the API's maximum). */
export const LIST_INSTANCES_PAGE_SIZE = 100;

/**
 * The most ListInstances pages one run reads. A service holds at most 1,000 instances (10 full pages); pages may
 * come back short, so twice that leaves room, and anything beyond is a pagination loop, not a service.
 */
export const LIST_INSTANCES_MAX_PAGES = 20;

/**
 * RegisterInstance / DeregisterInstance calls in flight at once in one run. At about 100 ms a call, a first run
 * registers 1,000 instances in about 10 s, inside the run's budget; a run cut short by its budget has registered
 * what it could, and the next one goes on from there (ListInstances shows what is already there).
 */
export const CLOUD_MAP_WRITE_CONCURRENCY = 10;

/** Attribute names; all but ECS_PEERS_NODE are the ones ECS itself sets when it registers tasks in Cloud Map. */
export const ATTRIBUTE = {
  ipv4: 'AWS_INSTANCE_IPV4',
  node: 'ECS_PEERS_NODE',
  zone: 'AVAILABILITY_ZONE',
  cluster: 'ECS_CLUSTER_NAME',
  service: 'ECS_SERVICE_NAME',
  family: 'ECS_TASK_DEFINITION_FAMILY',
  region: 'REGION',
} as const;
