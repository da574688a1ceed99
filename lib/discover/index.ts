export { floorCalls, PathChooser, type DiscoveryPath, type PathCost } from './choosePath.js';
export { describeTasks, type DescribedTasks } from './describeTasks.js';
export { discover, hasTags, type Discovered } from './discover.js';
export { getTaskArns } from './getTaskArns.js';
export { listRunningTasks } from './listTasks.js';
export { clusterOfTask, groupByCluster } from './taskArn.js';
export { peersOf, privateIpv4, taskPeer, type SkipReason, type TaskVerdict } from './taskPeer.js';
