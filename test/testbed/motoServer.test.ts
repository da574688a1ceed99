import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMoto } from '../../testbed/motoServer.js';

describe('startMoto', () => {
  const saved = process.env.MOTO_SERVER;
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ecs-peers-moto-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.MOTO_SERVER;
    else process.env.MOTO_SERVER = saved;
  });

  it('fails with the reason and how to install moto when moto_server cannot be executed (EACCES)', async () => {
    // What a non-root user meets with a .venv root installed: the file is there, but not theirs to run.
    const executable = path.join(dir, 'moto_server');
    writeFileSync(executable, '#!/bin/sh\nexit 0\n');
    chmodSync(executable, 0o644);
    process.env.MOTO_SERVER = executable;
    await expect(startMoto()).rejects.toThrow(/moto_server could not be started \(spawn .*EACCES\): .*setup\.sh moto/);
  });

  it('fails with its output when moto_server exits at once', async () => {
    const executable = path.join(dir, 'moto_server');
    writeFileSync(executable, '#!/bin/sh\necho "no module named moto" >&2\nexit 3\n');
    chmodSync(executable, 0o755);
    process.env.MOTO_SERVER = executable;
    await expect(startMoto()).rejects.toThrow(/moto_server exited with 3: no module named moto/);
  });
});
