import { describe, expect, it } from 'vitest';
import { describeError, Notices } from './notices.svelte.ts';

describe('notices', () => {
  it('words engine errors by their code', () => {
    expect(describeError({ code: 'engine-crashed', message: 'x' }, 'save')).toBe('The engine stopped unexpectedly and could not save. It restarts by itself; please try again.');
    expect(describeError({ code: 'engine-unavailable', message: 'restarting' }, 'save')).toBe('The engine is not available right now (restarting). Wait until it is ready, then try again.');
    expect(describeError({ code: 'io', message: 'disk full' }, 'save')).toBe('Could not save: disk full');
  });

  it('keeps the latest notice, of the kind reported', () => {
    const n = new Notices();
    expect(n.current).toBeNull();
    n.info('Opened a.png');
    expect(n.current).toEqual({ kind: 'info', text: 'Opened a.png' });
    n.failed({ code: 'decode-failed', message: 'not an image' }, 'open b.png');
    expect(n.current).toEqual({ kind: 'error', text: 'Could not open b.png: not an image' });
    n.clear();
    expect(n.current).toBeNull();
  });
});
