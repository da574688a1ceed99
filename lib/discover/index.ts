export { describeTasks, type DescribedTasks } from './describeTasks.js';
export { getTaskArns } from './getTaskArns.js';
export { clusterOfTask, groupByCluster } from './taskArn.js';
export { peersOf, privateIpv4, taskPeer, type SkipReason, type TaskVerdict } from './taskPeer.js';
