import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FanOutFigures } from '#bench/fan-out-scenario';

/** `npm run bench -- --scenario fleet`, as docs/benchmarks.md shows it, on a small fleet. */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const bench = (...args: string[]) => run('npm', ['run', '--silent', 'bench', '--', '--scenario', 'fleet', ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });

describe('the fleet scenario', () => {
  it('onboards through the fan-out, prints one JSON line with every figure, and exits 0 when nothing is lost', async () => {
    const { stdout } = await bench('--accounts', '12', '--regions', '2', '--membership', 'organizations', '--unit-size', '5');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const figures = JSON.parse(lines[0]!) as FanOutFigures;
    expect(figures).toMatchObject({ accounts: 12, regions: 2, membership: 'organizations', converged: true, lost: 0, enabled: 24, units: 6 });
    for (const key of ['wallSeconds', 'floorSeconds', 'ratio', 'workers', 'peakRssMiBPerWorker', 'calls', 'callsPerAccountRegion'] as const) {
      expect(figures[key], key).toBeGreaterThan(0);
    }
    // One unit per region at a time: two regions, at most two environments.
    expect(figures.workers).toBeLessThanOrEqual(2);
    expect(figures.byOperation.CreateMember).toBe(24);
  });

  it('refuses a bad option with its rule and exit code 2', async () => {
    const failure = await bench('--accounts', '0', '--regions', '2', '--membership', 'organizations').catch((error: unknown) => error as { code: number; stderr: string });
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('--accounts must be a whole number from 1 to 10000');
  });
});
