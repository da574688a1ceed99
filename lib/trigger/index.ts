export { classifyTrigger, type Trigger, type TriggerKind } from './classify.js';
