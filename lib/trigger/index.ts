export { classifyTrigger, type ClusterScope, type Trigger, type TriggerKind } from './classify.js';
