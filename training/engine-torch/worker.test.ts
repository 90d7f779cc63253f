import { describe, expect, it } from 'vitest';
import { ompWaitEnv } from './worker.ts';

describe('torch worker OpenMP waits', () => {
  it('waits passively on a busy CPU, keeps OpenMP spinning on a free one, and never overrides the user', () => {
    expect(ompWaitEnv({}, 6, 2)).toEqual({ OMP_WAIT_POLICY: 'PASSIVE' });
    expect(ompWaitEnv({}, 1, 2)).toEqual({ OMP_WAIT_POLICY: 'PASSIVE' });
    expect(ompWaitEnv({}, 0.3, 2)).toEqual({});
    expect(ompWaitEnv({}, 3, 16)).toEqual({});
    expect(ompWaitEnv({ OMP_WAIT_POLICY: 'ACTIVE' }, 12, 2)).toEqual({});
  });
});
