/**
 * End to end in real Chromium against the real web server and engine: open an image, run a
 * tool, watch the progress bar move, cancel, run again, save, and check the saved pixels; then
 * kill the engine process during a job and check the UI survives and recovers.
 * The packs are real ONNX graphs written by the project's exporter (tests/engine/fixtures).
 */
import { it, expect } from 'vitest';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import type { JobDone } from '../../electron/contract/schemas.ts';
import { appReady, childPids, describeE2E, openByPath, shot, until, useStudio } from './harness.ts';
import type { WebServer } from './harness.ts';

let input: string;
const W = 384;
const H = 256;

/** A photo-like test input: smooth gradients plus seeded texture (not a flat colour). */
async function writeInput(file: string): Promise<void> {
  const rgb = new Uint8Array(W * H * 3);
  let s = 12345;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) / 255 - 0.5;
      const i = (y * W + x) * 3;
      rgb[i] = Math.max(0, Math.min(255, 40 + (180 * x) / W + 20 * n));
      rgb[i + 1] = Math.max(0, Math.min(255, 60 + (120 * y) / H + 20 * n));
      rgb[i + 2] = Math.max(0, Math.min(255, 200 - (150 * (x + y)) / (W + H) + 20 * n));
    }
  }
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
}

async function progressValue(page: Page): Promise<number | null> {
  const bar = page.getByRole('progressbar', { name: 'Job progress' });
  if ((await bar.count()) === 0) return null;
  const v = await bar.getAttribute('value');
  return v === null ? -1 : Number(v);
}

function lastDone(frames: ServerMessage[]): JobDone | null {
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    if (f.t === 'evt' && f.e.type === 'job-done') return f.e.done;
  }
  return null;
}

/** The pixels the engine sent the page for `imageId` (getImagePixels response). */
function pixelsSent(frames: ServerMessage[], imageId: string): { width: number; height: number; rgba: Uint8Array } | null {
  for (const f of frames) {
    if (f.t !== 'res' || !f.r.ok) continue;
    const v = f.r.value as { imageId?: string; rgba?: unknown; width?: number; height?: number };
    if (v.imageId === imageId && v.rgba instanceof Uint8Array && v.width && v.height) return { width: v.width, height: v.height, rgba: v.rgba };
  }
  return null;
}

describeE2E('CoDi Studio in Chromium (web mode)', () => {
  const studio = useStudio({
    prefix: 'codi-e2e-',
    prepare: async ({ work }) => {
      input = path.join(work, 'input.png');
      await writeInput(input);
    },
  });

  it('opens an image, runs a tool with live progress, cancels, runs again and saves the exact result', async () => {
    const { page, errors, frames } = await studio.openApp();
    await appReady(page);
    await until('tools listed', () => page.getByRole('radio', { name: /Test restore/ }).count());
    await shot(page, '01-ready');

    await openByPath(page, input);
    await shot(page, '02-opened');

    await page.getByRole('radio', { name: /Test restore/ }).check();
    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('4', { exact: true }).click();
    await page.getByRole('button', { name: /^Run/ }).click();

    // The bar must move: two different determinate values while the job runs.
    const values = new Set<number>();
    await until('progress to move', async () => {
      const v = await progressValue(page);
      if (v !== null && v >= 0) values.add(v);
      return values.size >= 2;
    }, 120_000, 20);
    const status = await page.getByTestId('job-status').textContent();
    expect(status).toMatch(/step \d+\/4/);
    await shot(page, '03-progress');

    const tCancel = Date.now();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await until('cancel acknowledged', async () => ((await page.getByTestId('notice').textContent()) ?? '').includes('cancelled'), 60_000);
    expect(await progressValue(page)).toBeNull();
    console.log(`[e2e] cancel → UI idle: ${Date.now() - tCancel} ms`);
    await shot(page, '04-cancelled');
    const cancelledDone = lastDone(frames);
    expect(cancelledDone).toBeNull();

    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('1', { exact: true }).click();
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('job done', async () => ((await page.getByTestId('notice').textContent()) ?? '').includes('done in'), 300_000);
    const done = lastDone(frames);
    expect(done).not.toBeNull();
    expect(done!.width).toBe(W * 2);
    expect(done!.height).toBe(H * 2);
    await until('result pixels fetched', () => pixelsSent(frames, done!.resultImageId));
    await shot(page, '05-result');

    // Before/after comparison is offered once there is a result.
    await page.getByRole('radiogroup', { name: 'Compare before and after' }).getByText('Split').click();
    await shot(page, '06-compare-split');
    await page.getByRole('radiogroup', { name: 'Compare before and after' }).getByText('After').click();

    await page.getByRole('button', { name: 'Save as…' }).click();
    const pathBox = page.getByLabel('File path');
    expect(await pathBox.inputValue()).toBe(path.join(studio.work, 'input-codi.png'));
    await shot(page, '07-save-dialog');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await until('saved', async () => ((await page.getByTestId('notice').textContent()) ?? '').includes('Saved'), 60_000);
    const out = path.join(studio.work, 'input-codi.png');
    const first = await stat(out);

    // Saving again to the same name asks first, and "keep" leaves the file alone.
    await page.getByRole('button', { name: 'Save as…' }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
    await shot(page, '08-overwrite-confirm');
    await page.getByRole('button', { name: 'Keep the existing file' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await stat(out)).mtimeMs).toBe(first.mtimeMs);

    const saved = await sharp(await readFile(out)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(saved.info.width).toBe(W * 2);
    expect(saved.info.height).toBe(H * 2);
    const sent = pixelsSent(frames, done!.resultImageId)!;
    expect(sent.width).toBe(W * 2);
    // PNG is lossless: the file holds exactly the pixels the engine returned.
    expect(Buffer.compare(Buffer.from(saved.data), Buffer.from(sent.rgba))).toBe(0);
    const inputUp = await sharp(input).resize(W * 2, H * 2, { kernel: 'nearest' }).ensureAlpha().raw().toBuffer();
    expect(Buffer.compare(inputUp, Buffer.from(saved.data))).not.toBe(0);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < saved.data.length; i += 4) {
      const v = saved.data[i]!;
      sum += v;
      sumSq += v * v;
    }
    const n = saved.data.length / 4;
    const variance = sumSq / n - (sum / n) ** 2;
    expect(Number.isFinite(variance)).toBe(true);
    expect(variance).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens through the file chooser, paints a mask with the mouse, undoes it, and inpaints', async () => {
    const { page, errors, frames } = await studio.openApp();
    await appReady(page);
    await page.getByLabel('Choose image file').setInputFiles(input);
    await until('canvas shows the upload', async () => ((await page.getByTestId('image-canvas').getAttribute('aria-label')) ?? '').includes('input.png'));

    // View shortcuts: Ctrl+1 is 100 %, the wheel zooms, Ctrl+0 fits again.
    const zoom = page.getByLabel('Zoom level');
    await page.keyboard.press('Control+1');
    expect(await zoom.textContent()).toBe('100 %');
    const box = (await page.getByTestId('image-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await until('wheel zoom', async () => (await zoom.textContent()) !== '100 %');
    await page.keyboard.press('Control+0');
    await until('fit', async () => (await zoom.textContent()) === '100 %');

    await page.getByRole('radio', { name: /Test inpaint/ }).check();
    const runButton = page.getByRole('button', { name: /^Run/ });
    expect(await runButton.isDisabled()).toBe(true);
    await page.getByLabel(/Brush size/).fill('40');
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx - 60, cy);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(cx - 60 + i * 10, cy + (i % 2) * 6);
    await page.mouse.up();
    await until('mask enables Run', async () => !(await runButton.isDisabled()));
    await shot(page, '11-mask-painted');
    await page.keyboard.press('Control+z');
    await until('undo empties the mask', () => runButton.isDisabled());
    await page.keyboard.press('Control+Shift+z');
    await until('redo restores the mask', async () => !(await runButton.isDisabled()));

    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('1', { exact: true }).click();
    await runButton.click();
    await until('inpaint done', async () => ((await page.getByTestId('notice').textContent()) ?? '').includes('done in'), 300_000);
    const done = lastDone(frames);
    expect(done?.width).toBe(W);
    const result = await until('result pixels', () => pixelsSent(frames, done!.resultImageId));
    const original = await sharp(input).ensureAlpha().raw().toBuffer();
    expect(Buffer.compare(original, Buffer.from(result.rgba))).not.toBe(0);
    await shot(page, '12-inpainted');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('survives the engine process being killed during a job, then runs again on the last result', async () => {
    const { page, errors, frames } = await studio.openApp();
    await appReady(page);
    await openByPath(page, input);
    await page.getByRole('radio', { name: /Test edit/ }).check();
    await page.getByLabel('Instruction', { exact: true }).fill(studio.packs!.instructions[0]!);
    const steps = page.getByRole('radiogroup', { name: 'Steps' });
    const runButton = page.getByRole('button', { name: /^Run/ });

    // A first result: after the crash the engine has lost it (only opened files are replayed),
    // so the next run also proves the page hands its pixels back to the restarted engine.
    await steps.getByText('1', { exact: true }).click();
    await runButton.click();
    await until('first edit done', async () => ((await page.getByTestId('notice').textContent()) ?? '').includes('done in'), 300_000);

    await steps.getByText('4', { exact: true }).click();
    // Look the engine up before the job starts: on an idle machine a tiny-pack job can finish
    // while /proc is being scanned, and the kill would then land after the job.
    const pid = await enginePid(studio.server);
    await runButton.click();
    await until('job running', async () => ((await progressValue(page)) ?? -1) > 0, 120_000, 5);
    const tKill = Date.now();
    process.kill(pid, 'SIGKILL');

    await until('crash reported', async () => ((await page.getByRole('alert').textContent()) ?? '').includes('engine stopped unexpectedly'), 60_000);
    expect(await progressValue(page)).toBeNull();
    console.log(`[e2e] engine killed → failure shown: ${Date.now() - tKill} ms`);
    await shot(page, '09-engine-crashed');
    // Still responsive while the engine restarts: a dialog opens and closes.
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    await until('dialog closed', async () => (await page.getByRole('dialog').count()) === 0);

    await appReady(page, 120_000);
    console.log(`[e2e] engine killed → ready again: ${Date.now() - tKill} ms`);
    expect(await enginePid(studio.server)).not.toBe(pid);
    await steps.getByText('1', { exact: true }).click();
    // Compare with the last job done before this click, not with `first`: on a loaded machine
    // the 4-step job can finish just before the kill lands, and its 'done' would end the wait early.
    const beforeRun = lastDone(frames)!;
    await runButton.click();
    await until('job done after restart', async () => {
      const d = lastDone(frames);
      return d && d.jobId !== beforeRun.jobId;
    }, 300_000);
    const after = lastDone(frames)!;
    expect(after.width).toBe(W);
    // The restarted engine had lost the first result; the page uploaded it again (a second openImage).
    const opened = frames.filter((f) => f.t === 'res' && f.r.ok && typeof f.r.value === 'object' && f.r.value !== null && 'metadata' in f.r.value);
    expect(opened).toHaveLength(2);
    await until('result shown', async () => ((await page.getByTestId('notice').textContent()) ?? '').includes('done in'));
    await shot(page, '10-recovered');
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** The engine process: the web server's child running electron/engine/main.ts. */
async function enginePid(s: WebServer): Promise<number> {
  const pids = await until('engine process', async () => {
    const p = await childPids(s.child.pid!, 'engine/main.ts');
    return p.length === 1 ? p : null;
  }, 60_000);
  return pids[0]!;
}
