export { ATTRIBUTE, CLOUD_MAP_MAX_INSTANCES } from './constants.js';
export { CloudMapError, TooManyInstancesError } from './errors.js';
export { nodesOf, peerInstances, planInstances, taskId, type Instance, type InstancePlan } from './instances.js';
export { listInstances } from './listInstances.js';
export { readCloudMap, writeCloudMap, type CloudMapReport, type CloudMapState } from './sync.js';
export { deregisterInstances, registerInstances } from './writeInstances.js';
