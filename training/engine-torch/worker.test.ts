import { describe, expect, it } from 'vitest';
import { competingLoad, ompWaitEnv } from './worker.ts';

describe('torch worker OpenMP waits', () => {
  it('waits passively on a busy CPU, keeps OpenMP spinning on a free one, and never overrides the user', () => {
    expect(ompWaitEnv({}, 6, 2)).toEqual({ OMP_WAIT_POLICY: 'PASSIVE' });
    expect(ompWaitEnv({}, 1, 2)).toEqual({ OMP_WAIT_POLICY: 'PASSIVE' });
    expect(ompWaitEnv({}, 0.3, 2)).toEqual({});
    expect(ompWaitEnv({}, 3, 16)).toEqual({});
    expect(ompWaitEnv({ OMP_WAIT_POLICY: 'ACTIVE' }, 12, 2)).toEqual({});
  });

  it('counts the tasks runnable now, less the reading thread, not the minute-long load average', () => {
    // a load average of 3.9 left by earlier work, with only the reader running now: nothing competes
    expect(competingLoad(() => '3.90 2.10 1.00 1/180 4242\n', 3, 0)).toBe(0);
    // the median of the samples, so one passing burst does not decide
    const seq = ['1/180', '4/180', '3/181', '3/181', '1/180'];
    let i = 0;
    expect(competingLoad(() => `0.10 0.10 0.10 ${seq[i++]} 4242`, 5, 0)).toBe(2);
    expect(ompWaitEnv({}, competingLoad(() => '0.20 0.20 0.20 3/200 1', 3, 0), 2)).toEqual({ OMP_WAIT_POLICY: 'PASSIVE' });
  });
});
