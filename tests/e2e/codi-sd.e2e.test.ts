/**
 * A CoDi SD adapter pack in the app (real Chromium, web mode, real engine): a tiny CoDi SD export
 * (tests/diffusers/codi-fixtures.ts, built with a Python that has torch) is `codi import`ed into
 * the user packs folder; the editor lists it as a tool, runs an instruction edit with 2 steps
 * through the adapter and backbone graphs, and shows the result. Skipped without Chromium or
 * without a Python with torch (the reason is printed).
 */
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import type { JobDone } from '../../electron/contract/schemas.ts';
import { main } from '../../electron/cli/codi.ts';
import { capture, testEnv } from '../diffusers/fixtures.ts';
import { torchPython, writeTinyCodiExport } from '../diffusers/codi-fixtures.ts';
import { appReady, describeE2E, notice, openByPath, shot, until, useStudio } from './harness.ts';

const describeCodi = torchPython.python ? describeE2E : describe.skip;
if (!torchPython.python) console.warn(`tests/e2e/codi-sd.e2e.test.ts skipped: ${torchPython.reason}`);

const doneEvents = (frames: ServerMessage[]): JobDone[] => frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'job-done' ? [f.e.done] : []));

describeCodi('a CoDi SD adapter pack in the app', () => {
  let work = '';
  const studio = useStudio({
    prefix: 'codi-e2e-sd-',
    packs: 'empty',
    prepare: async (ws) => {
      work = ws.work;
      const src = path.join(ws.work, 'codi-edit-export');
      await writeTinyCodiExport(src, { task: 'edit' });
      const io = capture(testEnv(ws.work, path.join(ws.work, 'user-packs')));
      const code = await main(['import', src, '--name', 'codi-edit', '--title', 'CoDi tiny edit'], io);
      if (code !== 0) throw new Error(`codi import failed: ${io.stderr.join('\n')}`);
    },
  });

  it('picks the adapter pack as the edit tool, runs 2 steps with an instruction and shows the edited image', async () => {
    const [W, H] = [96, 64];
    const file = path.join(work, 'photo.png');
    const raw = Buffer.alloc(W * H * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 13) % 241;
    await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
    const { page, errors, frames } = await studio.openApp();
    await appReady(page);
    await openByPath(page, file);
    await page.getByRole('radio', { name: /CoDi tiny edit/ }).check();
    await page.getByLabel('Instruction', { exact: true }).fill('make it dark');
    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('2', { exact: true }).click();
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('edit done', async () => (await notice(page)).includes('done in'), 300_000);
    const done = doneEvents(frames).at(-1)!;
    expect([done.width, done.height]).toEqual([W, H]);
    expect(done.notes.join(' ')).toMatch(/CoDi edit adapter on "codi-edit-backbone", 2 steps, instruction: "make it dark"/);
    await shot(page, 'codi-sd-01-edit');
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);
});
