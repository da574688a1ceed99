export { readParameter, writeParameter, type StoredValue } from './ssm.js';
export { tierFor } from './tier.js';
