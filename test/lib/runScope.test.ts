import { InvocationEndedError, RunDeadlineError } from '../../lib/errors.js';
import { awsCall, pause, runBudget, startRun } from '../../lib/runScope.js';

const never = () => new Promise<never>(() => {});

describe('runBudget', () => {
  it('uses 60% of the invocation, keeping 12 s of the 30 s timeout back for the error path', () => {
    expect(runBudget(30_000)).toBe(18_000);
    expect(runBudget(4000)).toBe(2400);
    expect(runBudget()).toBe(18_000);
  });
});

describe('awsCall', () => {
  it('counts the attempts the SDK reports, on success and on failure', async () => {
    const scope = startRun();
    await awsCall(scope, 'ssm:GetParameter', async () => ({ $metadata: { attempts: 3 } }));
    await awsCall(scope, 'ssm:GetParameter', async () => {
      throw Object.assign(new Error('x'), { $metadata: { attempts: 2 } });
    }).catch(() => {});
    scope.end();
    expect(scope.calls).toEqual({ 'ssm:GetParameter': 5 });
  });

  it('passes the run signal to the call and fails with the invocation end when the caller aborts', async () => {
    const invocation = new AbortController();
    const scope = startRun({ signal: invocation.signal });
    let seen: AbortSignal | undefined;
    const call = awsCall(scope, 'ecs:DescribeTasks', (signal) => {
      seen = signal;
      return never();
    });
    invocation.abort();
    await expect(call).rejects.toThrow(InvocationEndedError);
    expect(seen?.aborted).toBe(true);
    scope.end();
  });

  it('sends nothing once the run is over its deadline', async () => {
    const scope = startRun({ remainingMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    let sent = false;
    await expect(
      awsCall(scope, 'ssm:PutParameter', async () => {
        sent = true;
      }),
    ).rejects.toThrow(RunDeadlineError);
    expect(sent).toBe(false);
    expect(scope.calls).toEqual({});
    scope.end();
  });

  it('ends a pause when the run is aborted', async () => {
    const invocation = new AbortController();
    const scope = startRun({ signal: invocation.signal });
    const waiting = pause(scope, 60_000);
    invocation.abort();
    await expect(waiting).rejects.toThrow(InvocationEndedError);
    scope.end();
  });
});
