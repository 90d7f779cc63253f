import { describe, it, expect } from 'vitest';
import type { JobDone, JobFailed } from '../../contract/schemas.ts';
import { JobQueue } from './queue.ts';
import type { JobContext } from './queue.ts';

function setup() {
  const order: string[] = [];
  const done: JobDone[] = [];
  const failed: JobFailed[] = [];
  const q = new JobQueue({ progress: () => {}, done: (d) => done.push(d), failed: (f) => failed.push(f) });
  const job = (name: string, priority: 'interactive' | 'batch', body?: (ctx: JobContext) => Promise<void>) =>
    q.submit({
      tool: 'restore',
      pack: 'p',
      priority,
      run: async (ctx) => {
        order.push(name);
        await body?.(ctx);
        return { resultImageId: 'img_r', width: 1, height: 1, notes: [] };
      },
    });
  return { q, job, order, done, failed };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('job queue', () => {
  it('runs interactive jobs before batch jobs, FIFO within a priority', async () => {
    const { job, order } = setup();
    job('b1', 'batch');
    job('b2', 'batch');
    job('i1', 'interactive');
    job('i2', 'interactive');
    await settle();
    expect(order).toEqual(['i1', 'i2', 'b1', 'b2']);
  });

  it('drops a queued job on cancel and stops a running one at its next check', async () => {
    const { q, job, order, failed, done } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const running = job('long', 'interactive', async (ctx) => {
      await gate;
      if (ctx.signal.aborted) throw new Error('stopped');
    });
    const queued = job('later', 'batch');
    await settle();
    expect(q.cancel(queued)?.state).toBe('cancelled');
    expect(q.cancel(running)?.state).toBe('running');
    release();
    await settle();
    expect(order).toEqual(['long']);
    expect(failed.map((f) => [f.jobId, f.cancelled])).toEqual([
      [queued, true],
      [running, true],
    ]);
    expect(done).toEqual([]);
    expect(q.status(running)?.state).toBe('cancelled');
  });
});
