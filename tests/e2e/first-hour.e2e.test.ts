/**
 * A new user's first hour, in real Chromium (web mode) against the real engine and the BUNDLED
 * packs (native-models/), since the defaults under test are chosen from what those packs
 * measured:
 * - the tool selected at start improves a photo when Run is pressed (not "Depth to image"),
 *   and the steps hint says what the pack measured;
 * - Ctrl+Enter in the instruction field runs;
 * - the depth tool says what it needs and refuses a colour photo before running;
 * - after inpainting the result shows, not the mask, and H brings the mask back; a loaded mask of
 *   another size follows the engine's rule (same shape scaled and said, other shape refused);
 * - at 1440×900 the Run button and the variation thumbnails stay in view;
 * - Save as… defaults to an absolute path: the photo's folder, or the save folder when the
 *   photo was uploaded without a path.
 */
import { it, expect } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import type { JobDone } from '../../electron/contract/schemas.ts';
import { manifestSchema } from '../../core/packs/manifest.ts';
import { measuredSteps } from '../../core/packs/measured-steps.ts';
import { appReady, describeE2E, notice, openByPath, shot, until, useStudio } from './harness.ts';

let saveDir: string;
let photo: string;
let depthMap: string;
const W = 320;
const H = 240;

/** A colourful, low-contrast photo-like picture (smooth gradients, mild grain). */
function texture(w: number, h: number, seed: number): Buffer {
  const rgb = Buffer.alloc(w * h * 3);
  let s = seed;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) / 255 - 0.5;
      const i = (y * w + x) * 3;
      rgb[i] = Math.max(0, Math.min(255, 80 + (100 * x) / w + 12 * n));
      rgb[i + 1] = Math.max(0, Math.min(255, 90 + (70 * y) / h + 12 * n));
      rgb[i + 2] = Math.max(0, Math.min(255, 160 - (80 * (x + y)) / (w + h) + 12 * n));
    }
  }
  return rgb;
}

/** A fresh start with the bundled tools listed. */
async function waitReady(page: Page): Promise<void> {
  await appReady(page);
  await until('tools listed', async () => (await page.getByRole('radiogroup', { name: 'Tool' }).getByRole('radio').count()) >= 4, 60_000);
}

function doneEvents(frames: ServerMessage[]): JobDone[] {
  return frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'job-done' ? [f.e.done] : []));
}

function pixelsSent(frames: ServerMessage[], imageId: string): Uint8Array | null {
  for (const f of frames) {
    if (f.t !== 'res' || !f.r.ok) continue;
    const v = f.r.value as { imageId?: string; rgba?: unknown };
    if (v.imageId === imageId && v.rgba instanceof Uint8Array) return v.rgba;
  }
  return null;
}

function openedIds(frames: ServerMessage[]): string[] {
  return frames.flatMap((f) => (f.t === 'res' && f.r.ok && typeof f.r.value === 'object' && f.r.value !== null && 'metadata' in f.r.value ? [(f.r.value as unknown as { imageId: string }).imageId] : []));
}

/** Standard deviation of BT.601 luma over RGBA pixels, in [0, 1]. */
function lumaStd(rgba: Uint8Array): number {
  const n = rgba.length / 4;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const l = (0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!) / 255;
    sum += l;
    sq += l * l;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean));
}

/** The canvas pixel under page point (x, y) (a string: this file is type-checked without the DOM library). */
async function canvasPixel(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-testid="image-canvas"]');
    const r = c.getBoundingClientRect();
    const k = c.width / r.width;
    const d = c.getContext('2d').getImageData(Math.round((${x} - r.left) * k), Math.round((${y} - r.top) * k), 1, 1).data;
    return [d[0], d[1], d[2]];
  })()`);
}

const distance = (a: number[], b: number[]): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

async function inView(page: Page, what: string, box: { x: number; y: number; width: number; height: number } | null): Promise<void> {
  const vp = page.viewportSize()!;
  expect(box, what).not.toBeNull();
  expect(box!.y, `${what} top`).toBeGreaterThanOrEqual(0);
  expect(box!.x, `${what} left`).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height, `${what} bottom vs ${vp.height}`).toBeLessThanOrEqual(vp.height);
  expect(box!.x + box!.width, `${what} right`).toBeLessThanOrEqual(vp.width);
}

describeE2E('A new user’s first hour (bundled packs, Chromium, web mode)', () => {
  const studio = useStudio({
    prefix: 'codi-e2e-first-',
    packs: 'bundled',
    prepare: async ({ work }) => {
      saveDir = path.join(work, 'Pictures');
      await mkdir(saveDir);
      photo = path.join(work, 'photos', 'LadyBird.png');
      await mkdir(path.dirname(photo));
      await sharp(texture(W, H, 5), { raw: { width: W, height: H, channels: 3 } }).png().toFile(photo);
      depthMap = path.join(work, 'photos', 'depth.png');
      const grey = Buffer.alloc(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) grey[y * W + x] = Math.round((255 * (H - 1 - y)) / (H - 1));
      await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).png().toFile(depthMap);
    },
    env: () => ({ CODI_SAVE_DIR: saveDir }),
  });

  it('starts on the tool that improves a photo, says what the steps measured, and runs it from Ctrl+Enter in the instruction field', async () => {
    const { page, errors, frames } = await studio.openApp();
    await waitReady(page);
    await openByPath(page, photo, 120_000);
    // Not "Depth to image" (the first pack by name): the edit pack, measured about +11 dB over its input.
    expect(await page.getByRole('radio', { name: /Instruction edit/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: /Depth to image/ }).isChecked()).toBe(false);
    expect(await page.getByLabel('Instruction', { exact: true }).inputValue()).toBe('more contrast');
    const hint = (await page.getByTestId('steps-hint').textContent()) ?? '';
    // the numbers the bundled edit pack ships (its val measurements), as the hint must show them
    const editManifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'native-models', 'codi-edit', 'manifest.json'), 'utf8')));
    const shipped = measuredSteps(editManifest).steps.map((m) => `${m.steps} step${m.steps > 1 ? 's' : ''} ${m.psnrDb.toFixed(1)} dB`);
    expect(shipped.length).toBeGreaterThanOrEqual(3);
    expect(hint).toContain(shipped.join(', '));
    expect(hint).not.toMatch(/more detail/i);
    await shot(page, 'first-01-default-tool');

    // Just press Run: the photo comes back with more contrast, not noise.
    const original = await until('original pixels', () => pixelsSent(frames, openedIds(frames)[0]!));
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('edit done', async () => (await notice(page)).includes('done in'), 300_000);
    const done = doneEvents(frames).at(-1)!;
    const result = await until('result pixels', () => pixelsSent(frames, done.resultImageId));
    const before = lumaStd(original);
    const after = lumaStd(result);
    console.log(`[e2e] default tool on a photo: luma std ${before.toFixed(3)} → ${after.toFixed(3)}`);
    expect(after).toBeGreaterThan(before * 1.05);
    await shot(page, 'first-02-default-run');

    // Ctrl+Enter with the cursor in the instruction field runs again.
    const field = page.getByLabel('Instruction', { exact: true });
    await field.click();
    await field.fill('boost contrast');
    const jobsBefore = doneEvents(frames).length;
    await field.press('Control+Enter');
    await until('Ctrl+Enter ran the tool', () => doneEvents(frames).length > jobsBefore, 300_000);
    expect(await field.inputValue()).toBe('boost contrast');
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);

  it('the depth tool says what it needs and refuses a colour photo before it runs, with the reason', async () => {
    const { page } = await studio.openApp();
    await waitReady(page);
    await openByPath(page, photo, 120_000);
    const depth = page.getByRole('radio', { name: /Depth to image/ });
    expect(await page.locator('label.tool', { has: depth }).textContent()).toContain('Needs a depth map: a grey image, white = near, black = far');
    await depth.check();
    expect(await page.getByTestId('depth-needs').textContent()).toContain('a colour photo is refused');
    const runButton = page.getByRole('button', { name: /^Run/ });
    expect(await runButton.isDisabled()).toBe(true);
    expect(await page.locator('#run-why').textContent()).toMatch(/^This image is not a depth map: \d+ % of its pixels are in colour .*Load depth map/);
    await shot(page, 'first-03-depth-refuses-photo');
    // A grey depth map is accepted and runs.
    await openByPath(page, depthMap, 120_000);
    await until('Run enabled for a depth map', async () => !(await runButton.isDisabled()));
    await runButton.click();
    await until('depth done', async () => (await notice(page)).includes('done in'), 300_000);
    await page.close();
  }, 600_000);

  it('after inpainting the result shows without the mask, H brings the mask back, and a loaded mask follows the size rule', async () => {
    const { page } = await studio.openApp();
    await waitReady(page);
    await openByPath(page, photo, 120_000);
    await page.getByRole('radio', { name: /Inpaint/ }).check();

    // Mask files of another size: the engine's rule, in the editor too.
    const half = path.join(studio.work, 'mask-half.png');
    const m = Buffer.alloc((W / 2) * (H / 2));
    for (let y = 30; y < 90; y++) for (let x = 20; x < 70; x++) m[y * (W / 2) + x] = 255;
    await sharp(m, { raw: { width: W / 2, height: H / 2, channels: 1 } }).png().toFile(half);
    const otherShape = path.join(studio.work, 'mask-other.png');
    await sharp({ create: { width: H, height: W, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(otherShape);
    await page.getByLabel('Choose mask file').setInputFiles(otherShape);
    await until('other shape refused', async () => (await notice(page)).includes(`Mask not loaded: the mask is ${H}×${W} but the image is ${W}×${H}, a different shape`));
    await page.getByLabel('Choose mask file').setInputFiles(half);
    await until('same shape scaled', async () => (await notice(page)).includes(`Mask loaded: the mask is ${W / 2}×${H / 2} but the image is ${W}×${H}: same shape, so the mask was scaled to ${W}×${H}`));

    // The loaded mask covers image x 40…140, y 60…180: find that spot on the canvas.
    const box = (await page.getByTestId('image-canvas').boundingBox())!;
    const scale = Math.min(1, box.width / W, box.height / H); // fit, never above 100 %
    const px = box.x + box.width / 2 + (90 - W / 2) * scale;
    const py = box.y + box.height / 2 + (120 - H / 2) * scale;
    const runButton = page.getByRole('button', { name: /^Run/ });
    await until('mask enables Run', async () => !(await runButton.isDisabled()));
    await runButton.click();
    await until('inpaint done', async () => (await notice(page)).includes('done in'), 300_000);
    expect(await notice(page)).toContain('Mask hidden to show the result (H shows it)');
    expect(await page.getByRole('checkbox', { name: /Show mask/ }).isChecked()).toBe(false);
    const shown = async () => canvasPixel(page, px, py);
    await new Promise((r) => setTimeout(r, 300));
    const resultPx = await shown();
    await shot(page, 'first-04-inpaint-result-visible');
    await page.keyboard.press('h');
    await until('mask overlay back', async () => distance(await shown(), resultPx) > 40);
    const overlaid = await shown();
    // The overlay is pink (#ff308c at 50 %): red up, green down against the result.
    expect(overlaid[0] - overlaid[1]).toBeGreaterThan(resultPx[0] - resultPx[1] + 30);
    expect(await page.getByRole('checkbox', { name: /Show mask/ }).isChecked()).toBe(true);
    await shot(page, 'first-05-inpaint-mask-back');
    await page.keyboard.press('h');
    await until('mask hidden again', async () => distance(await shown(), resultPx) < 3);
    // The cheat-sheet lists the key.
    await page.keyboard.press('Shift+?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.textContent()).toContain('Show / hide the mask overlay');
    await page.keyboard.press('Escape');
    await page.close();
  }, 600_000);

  it('at 1440×900 the Run button and the variation thumbnails stay in view', async () => {
    const { page } = await studio.openApp('', { width: 1440, height: 900 });
    await waitReady(page);
    await openByPath(page, photo, 120_000);
    // The inpaint tool has the longest panel (options + every mask control).
    await page.getByRole('radio', { name: /Inpaint/ }).check();
    const runButton = page.getByRole('button', { name: /^Run/ });
    await inView(page, 'Run', await runButton.boundingBox());
    const box = (await page.getByTestId('image-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2 - 40, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width / 2 - 40 + i * 10, box.y + box.height / 2 + (i % 2) * 4);
    await page.mouse.up();
    await until('mask enables Run', async () => !(await runButton.isDisabled()));
    const rb = (await runButton.boundingBox())!;
    await inView(page, 'Run', rb);
    // Nothing covers it: the button itself is what a click at its centre reaches.
    expect(await page.evaluate(`document.elementFromPoint(${rb.x + rb.width / 2}, ${rb.y + rb.height / 2})?.closest('button')?.textContent ?? ''`)).toMatch(/^Run/);
    await page.getByLabel('Number of variations').selectOption('2');
    await page.getByRole('button', { name: 'Variations' }).click();
    await until('variations ready', async () => (await notice(page)).includes('variations ready'), 300_000);
    await shot(page, 'first-06-1440x900-variations');
    const thumbs = page.getByRole('group', { name: 'Variations' }).getByRole('button');
    expect(await thumbs.count()).toBe(2);
    for (let i = 0; i < 2; i++) await inView(page, `variation ${i + 1}`, await thumbs.nth(i).boundingBox());
    await inView(page, 'Run', await runButton.boundingBox());
    await page.close();
  }, 600_000);

  it('Save as… defaults to an absolute path: the photo’s folder, or the save folder for an upload', async () => {
    const { page } = await studio.openApp();
    await waitReady(page);
    await openByPath(page, photo, 120_000);
    await page.getByRole('button', { name: 'Save as…' }).click();
    expect(await page.getByLabel('File path').inputValue()).toBe(path.join(path.dirname(photo), 'LadyBird-codi.png'));
    await page.keyboard.press('Escape');
    // Uploaded through the browser's file chooser: no folder is known, so the save folder.
    await page.getByLabel('Choose image file').setInputFiles(photo);
    // The notice already reads "Opened LadyBird.png" from the first open, so it cannot tell when the
    // upload has replaced the photo; the dialog's default is read until it changes (or times out).
    const savePath = async () => {
      await page.getByRole('button', { name: 'Save as…' }).click();
      const v = await page.getByLabel('File path').inputValue();
      await page.keyboard.press('Escape');
      return v;
    };
    const expected = path.join(saveDir, 'LadyBird-codi.png');
    let p = '';
    await until('Save as… offers the save folder after the upload', async () => (p = await savePath()) === expected, 60_000, 250);
    expect(path.isAbsolute(p)).toBe(true);
    expect(p).toBe(expected);
    await page.close();
  }, 300_000);
});
