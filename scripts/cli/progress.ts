/**
 * Progress lines for the demo's long steps: elapsed time since the demo started, what is running, what comes
 * next, and a heartbeat every few seconds while a step is still running.
 */

// scripts/demo.sh sets ECS_PEERS_T0 (epoch seconds), so the set-up and the demo count from one start.
const started = Number(process.env.ECS_PEERS_T0 ?? NaN) * 1000 || Date.now();

/** Elapsed time since the demo started, as `[m:ss]`. */
export const elapsed = (): string => {
  const seconds = Math.floor((Date.now() - started) / 1000);
  return `[${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}]`;
};

/** Prints one progress line: `[0:12] what (next: ...)`. */
export const progress = (what: string, next?: string): void => {
  console.log(`${elapsed()} ${what}${next ? ` (next: ${next})` : ''}`);
};

/**
 * Runs a long step with a start line and, every `everyMs`, a line saying it is still running.
 *
 * @param what - what the step does, e.g. `starting 4 BEAM nodes ...`; its text up to the first comma names it
 *   in the heartbeat lines
 * @param next - what comes after it
 * @param work - the step
 * @param everyMs - heartbeat interval
 */
export const step = async <T>(what: string, next: string | undefined, work: () => Promise<T>, everyMs = 5000) => {
  const begin = Date.now();
  const label = what.split(/[,;]/)[0];
  progress(what, next);
  const timer = setInterval(
    () => console.log(`${elapsed()}   ... ${label}: ${Math.round((Date.now() - begin) / 1000)} s so far`),
    everyMs,
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
};
