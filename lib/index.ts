export type { ApiCalls } from './apiCalls.js';
export { createClients } from './clients.js';
export { clusterName, loadConfig, type Config } from './config.js';
export * from './errors.js';
export { createHandler, type HandlerDependencies, type HandlerResult } from './handler.js';
export { ignoredReport, reconcile, type Clients, type Report } from './reconcile.js';
export { classifyTrigger, type Trigger, type TriggerKind } from './trigger/index.js';
