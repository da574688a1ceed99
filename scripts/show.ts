/**
 * `npm run cli -- show --parameter NAME`: prints the peer set a deployed parameter publishes, decoded and checked
 * the way a node reads it (v1, or a v2 manifest and its parts). Exit status 1 when the set is unreadable or torn.
 * Uses your AWS credentials and Region (or AWS_ENDPOINT_URL, e.g. moto).
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { readPeerSet } from '../lib/publish/index.js';
import { startRun } from '../lib/runScope.js';

/**
 * Prints the decoded set of a parameter.
 *
 * @param parameter - the main parameter's name
 * @param client - SSM client (default: from the SDK's standard configuration)
 * @returns whether the set was readable
 */
export const show = async (parameter: string | undefined, client = new SSMClient({})): Promise<boolean> => {
  if (parameter === undefined) throw new Error('show needs --parameter NAME');
  const scope = startRun();
  try {
    const set = await readPeerSet(client, parameter, scope);
    const calls = Object.entries(scope.calls).map(([api, count]) => `${api} ${count}`).join(', ');
    if ('problem' in set) {
      console.error(`${parameter}${set.version === undefined ? '' : ` (version ${set.version})`}: ${set.problem}`);
      return false;
    }
    const form = set.format === 1 ? 'v1' : `v2, ${set.parts} part(s), digest checked`;
    console.log(`${parameter} (version ${set.version}, ${form}): ${set.nodes.length} peers [${calls}]`);
    for (const node of set.nodes) console.log(node);
    return true;
  } finally {
    scope.end();
  }
};
