import { GetParametersCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { ConflictError, PublishError } from '../../../lib/errors.js';
import { encodeV2, partName } from '../../../lib/peerSet/index.js';
import { publishValues, readParts } from '../../../lib/publish/index.js';
import { startRun } from '../../../lib/runScope.js';
import { newClients } from '../../support/mockAws.js';
import { resetStubs, serveParameter, ssm } from '../../support/stubAws.js';

beforeEach(resetStubs);
const NAMES = [partName('/ecs-peers/shop', 0), partName('/ecs-peers/shop', 1)];

describe('readParts', () => {
  it('reads the parts with one GetParameters, absent ones as InvalidParameters', async () => {
    const stored = serveParameter('x', 1);
    stored.store.set(NAMES[0]!, { value: 'AAAA', version: 3 });
    const parts = await readParts(newClients().ssm, NAMES, startRun());
    expect([...parts]).toEqual([[NAMES[0], { value: 'AAAA', version: 3 }]]);
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
  });

  it.each([
    ['a parameter nobody asked for', { Parameters: [{ Name: '/other', Value: 'x', Version: 1 }], InvalidParameters: NAMES }],
    ['a name neither found nor invalid', { Parameters: [], InvalidParameters: [NAMES[0]] }],
    ['a part without Version', { Parameters: [{ Name: NAMES[0], Value: 'x' }], InvalidParameters: [NAMES[1]] }],
    ['no Parameters list', {}],
  ])('fails naming ssm:GetParameters on %s', async (_title, answer) => {
    ssm.on(GetParametersCommand).resolves(answer as never);
    await expect(readParts(newClients().ssm, NAMES, startRun())).rejects.toThrow(PublishError);
    await expect(readParts(newClients().ssm, NAMES, startRun())).rejects.toThrow(/ssm:GetParameters on \/ecs-peers\/shop\/part\/\*/);
  });
});

describe('publishValues', () => {
  // Spread over 10.0.0.0/8 : two parts or more.
  const nodes = Array.from({ length: 3000 }, (_, index) => `shop@10.${(index * 37) % 256}.${(index * 101) % 256}.${index % 251}`);

  it('writes the parts before the manifest, and skips a part that holds its value already', async () => {
    const { main, parts } = encodeV2('shop', [...new Set(nodes)]);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const stored = serveParameter('{"version":1,"nodes":[]}', 4);
    stored.store.set(NAMES[0]!, { value: parts[0]!, version: 2 });
    const current = new Map([[NAMES[0]!, { value: parts[0]!, version: 2 }]]);
    await publishValues(newClients().ssm, '/ecs-peers/shop', { main, parts }, 4, current, startRun());
    const written = ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input.Name);
    const rest = parts.slice(1).map((_, index) => partName('/ecs-peers/shop', index + 1));
    expect(written).toEqual([...rest, '/ecs-peers/shop']);
  });

  it('writes no part when the main parameter changed since the run read it', async () => {
    const { main, parts } = encodeV2('shop', [...new Set(nodes)]);
    serveParameter('{"version":1,"nodes":[]}', 5); // the run read version 4
    await expect(publishValues(newClients().ssm, '/ecs-peers/shop', { main, parts }, 4, new Map(), startRun())).rejects.toThrow(
      ConflictError,
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});
