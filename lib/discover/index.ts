export { describeTasks, type DescribedTasks } from './describeTasks.js';
export { getTaskArns } from './getTaskArns.js';
export { clusterOfTask, groupByCluster } from './taskArn.js';
export { privateIpv4, taskPeer, type SkipReason } from './taskPeer.js';
