export { readParameter, writeParameter, type StoredValue } from './ssm.js';
export { tierFor } from './tier.js';
export { publishValues, readParts, readPublished, type PublishedSet, type StoredParts } from './parts.js';
export { readPeerSet, type ReadSet } from './readSet.js';
