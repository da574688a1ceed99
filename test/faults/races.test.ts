/**
 * Races between runs of the built bundle (testbed/faultRaces.ts): an older run held by its fault proxy while the
 * estate changes and a newer run publishes, then let go; and a run whose invocation ends mid-flight (middy's
 * timeout) while its work goes on in the same process, as it does in a reused execution environment. The newer
 * discovery's value must be what is stored.
 */
import { startFaultBed, type FaultBed } from '../../testbed/faultBed.js';
import { RACES, runRace } from '../../testbed/faultRaces.js';

let bed: FaultBed;

beforeAll(async () => {
  bed = await startFaultBed({ estate: [] });
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

describe('the newer discovery wins', () => {
  it.each(RACES)(
    '$id',
    async (race) => {
      const outcome = await runRace(bed, race);
      expect(outcome.problems).toEqual([]);
      expect(outcome.staleOverwrite).toBe(false);
      expect(outcome.hung).toBe(false);
      expect(outcome.b).toMatchObject({ written: true });
    },
    90_000,
  );
});
