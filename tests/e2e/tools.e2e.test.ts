/**
 * The editor's tools end to end in real Chromium (web mode) against the real web server and
 * engine with exported test packs:
 * - open a JPEG carrying EXIF and an ICC profile → brush a mask with pointer events → inpaint →
 *   every pixel outside the mask is unchanged (saved PNG vs the decoded original, mask taken
 *   from the app's own "Save mask" PNG) → undo/redo → export JPEG with EXIF and ICC kept;
 * - restore ×2 of a 12-megapixel image with tile progress, and a cancelled run (640×480 with
 *   CODI_E2E_SMALL=1, for quick local runs);
 * - an instruction edit on a large photo (run at working size, carried to full size);
 * - a batch over a folder with one corrupt file reported;
 * - recent files, copy to the clipboard, mask tools and the cheat-sheet.
 * Screenshots of each step go to test-results/e2e/.
 */
import { it, expect } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import type { JobDone, JobProgress } from '../../electron/contract/schemas.ts';
import type { TestPacks } from '../engine/fixtures/packs.ts';
import { appReady, describeE2E, notice, openByPath as openByPathWithin, shot, until, useStudio } from './harness.ts';

const LARGE = process.env.CODI_E2E_SMALL !== '1';

let work: string;
let packs: TestPacks;

function texture(W: number, H: number, seed: number): Buffer {
  const rgb = Buffer.alloc(W * H * 3);
  let s = seed;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) / 255 - 0.5;
      const i = (y * W + x) * 3;
      rgb[i] = Math.max(0, Math.min(255, 50 + (170 * x) / W + 25 * n));
      rgb[i + 1] = Math.max(0, Math.min(255, 70 + (110 * y) / H + 25 * n));
      rgb[i + 2] = Math.max(0, Math.min(255, 190 - (140 * (x + y)) / (W + H) + 25 * n));
    }
  }
  return rgb;
}

const openByPath = (page: Page, file: string) => openByPathWithin(page, file, 120_000);

async function saveAs(page: Page, file: string, format: string, keepMetadata: boolean): Promise<void> {
  await page.getByRole('button', { name: 'Save as…' }).click();
  await page.getByLabel('Format').selectOption(format);
  await page.getByLabel('File path').fill(file);
  const keep = page.getByLabel(/Keep the original's metadata/);
  if ((await keep.isChecked()) !== keepMetadata) await keep.click();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await until(`saved ${path.basename(file)}`, async () => (await notice(page)).includes(`Saved ${file}`), 120_000);
}

function doneEvents(frames: ServerMessage[]): JobDone[] {
  return frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'job-done' ? [f.e.done] : []));
}

function progressEvents(frames: ServerMessage[]): JobProgress[] {
  return frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'job-progress' ? [f.e.progress] : []));
}

/** RGBA pixels the engine sent the page for `imageId`. */
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

async function rawRgba(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const r = await sharp(await readFile(file)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: r.data, width: r.info.width, height: r.info.height };
}

describeE2E('CoDi Studio tools in Chromium (web mode)', () => {
  const studio = useStudio({
    prefix: 'codi-e2e-tools-',
    prepare: async (ws) => {
      work = ws.work;
      packs = ws.packs!;
    },
    ready: (s) => s.browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(s.server.url).origin }),
  });

  it('inpaints a brushed mask, keeps every pixel outside it, undoes/redoes, and exports with EXIF and ICC', async () => {
    const W = 320;
    const H = 240;
    const jpeg = path.join(work, 'photo.jpg');
    await sharp(texture(W, H, 7), { raw: { width: W, height: H, channels: 3 } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'CoDi e2e test', Artist: 'tester' } })
      .jpeg({ quality: 92 })
      .toFile(jpeg);
    const srcMeta = await sharp(jpeg).metadata();
    expect(srcMeta.icc && srcMeta.exif).toBeTruthy();

    const { page, errors, frames } = await studio.openApp();
    await appReady(page);
    await openByPath(page, jpeg);
    const originalId = openedIds(frames)[0]!;
    const original = await until('original pixels', () => pixelsSent(frames, originalId));
    await page.getByRole('radio', { name: /Test inpaint/ }).check();
    await shot(page, 'tools-01-opened-jpeg');

    // Brush with synthesized pointer events: two strokes, the second after [ / ] size changes.
    await page.getByLabel(/Brush size/).fill('30');
    await page.keyboard.press(']');
    await page.keyboard.press('Shift+BracketLeft');
    const box = (await page.getByTestId('image-canvas').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx - 70, cy - 10);
    await page.mouse.down();
    for (let i = 1; i <= 14; i++) await page.mouse.move(cx - 70 + i * 10, cy - 10 + (i % 3) * 4);
    await page.mouse.up();
    // Rectangle tool (M) adds a box; Alt+drag with it subtracts a strip again.
    await page.keyboard.press('m');
    await page.mouse.move(cx + 40, cy + 20);
    await page.mouse.down();
    await page.mouse.move(cx + 90, cy + 60, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.down('Alt');
    await page.mouse.move(cx + 60, cy + 10);
    await page.mouse.down();
    await page.mouse.move(cx + 70, cy + 70, { steps: 3 });
    await page.mouse.up();
    await page.keyboard.up('Alt');
    await page.keyboard.press('b');
    const runButton = page.getByRole('button', { name: /^Run/ });
    await until('mask enables Run', async () => !(await runButton.isDisabled()));
    // Feather preview, then cancel it: the mask must be unchanged by a cancelled preview.
    await page.getByLabel(/Feather/).fill('12');
    await page.getByRole('button', { name: 'Cancel', exact: true }).waitFor();
    await shot(page, 'tools-02-mask-feather-preview');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await shot(page, 'tools-03-mask-painted');
    expect(await page.getByLabel('Undo memory').textContent()).toMatch(/Undo: [\d.]+ MB \/ 512 MB/);

    // The app's own mask export tells the test exactly which pixels were masked.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save mask…' }).click()]);
    const maskFile = path.join(work, 'mask.png');
    await download.saveAs(maskFile);
    const mask = await rawRgba(maskFile);
    expect([mask.width, mask.height]).toEqual([W, H]);
    let masked = 0;
    for (let i = 0; i < W * H; i++) if (mask.data[i * 4]! > 0) masked++;
    expect(masked).toBeGreaterThan(2000);
    expect(masked).toBeLessThan(W * H / 2);

    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('1', { exact: true }).click();
    await runButton.click();
    await until('inpaint done', async () => (await notice(page)).includes('done in'), 300_000);
    await shot(page, 'tools-04-inpainted');
    const resultPng = path.join(work, 'inpainted.png');
    await saveAs(page, resultPng, 'png', false);
    const result = await rawRgba(resultPng);
    let changedInside = 0;
    let changedOutside = 0;
    for (let i = 0; i < W * H; i++) {
      const inside = mask.data[i * 4]! > 0;
      for (let k = 0; k < 3; k++) {
        if (result.data[i * 4 + k] === original[i * 4 + k]) continue;
        if (inside) changedInside++;
        else changedOutside++;
      }
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(1000);

    // Undo brings back the original exactly; redo the result.
    await page.keyboard.press('Control+z');
    await until('undo', async () => (await page.getByRole('button', { name: 'Redo' }).isEnabled()));
    const undonePng = path.join(work, 'undone.png');
    await saveAs(page, undonePng, 'png', false);
    expect(Buffer.compare((await rawRgba(undonePng)).data, Buffer.from(original))).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    await until('redo', async () => !(await page.getByRole('button', { name: 'Redo' }).isEnabled()));
    await shot(page, 'tools-05-redone');

    const exported = path.join(work, 'exported.jpg');
    await saveAs(page, exported, 'jpeg', true);
    const meta = await sharp(exported).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.icc).toBeTruthy();
    expect(meta.exif?.toString('latin1')).toContain('CoDi e2e test');
    const redone = await rawRgba(exported);
    let diff = 0;
    for (let i = 0; i < result.data.length; i++) diff += Math.abs(redone.data[i]! - result.data[i]!);
    expect(diff / result.data.length).toBeLessThan(6); // the JPEG holds the redone result, not the original

    // Copy to the clipboard: a PNG of the current image lands there.
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await until('copied', async () => (await notice(page)).includes('Copied'), 60_000);
    // Runs in the page (a string, since this file is type-checked without the DOM library).
    const clip = await page.evaluate(`(async () => {
      const items = await navigator.clipboard.read();
      const blob = await items[0].getType('image/png');
      const bmp = await createImageBitmap(blob);
      return { type: blob.type, width: bmp.width, height: bmp.height };
    })()`);
    expect(clip).toEqual({ type: 'image/png', width: W, height: H });

    // Variations: 2 seeds side by side, pick the second → one history step.
    await page.getByLabel('Number of variations').selectOption('2');
    await page.getByRole('button', { name: 'Variations' }).click();
    await until('two variations', async () => (await page.getByRole('group', { name: 'Variations' }).getByRole('button').count()) === 2, 300_000);
    await until('variations finished', async () => (await notice(page)).includes('variations ready'), 300_000);
    await shot(page, 'tools-06-variations');
    const seedsBefore = doneEvents(frames).length;
    expect(seedsBefore).toBeGreaterThanOrEqual(3);
    await page.getByRole('button', { name: /Variation with seed 1/ }).click();
    await until('picked', async () => (await notice(page)).includes('Picked the variation with seed 1'));
    expect(await page.getByRole('button', { name: 'Undo' }).getAttribute('title')).toContain('seed 1');
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);

  it(`restores ×2 ${LARGE ? 'a 12-megapixel image' : 'a large image'} with tile progress, and cancels a run`, async () => {
    const [W, H] = LARGE ? [4000, 3000] : [640, 480];
    const big = path.join(work, `big-${W}x${H}.png`);
    await sharp(texture(W, H, 3), { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 1 }).toFile(big);
    const { page, errors, frames } = await studio.openApp();
    await appReady(page);
    await openByPath(page, big);
    await page.getByRole('radio', { name: /Test restore/ }).check();
    await page.getByRole('radiogroup', { name: 'Scale' }).getByText('×2').click();
    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('1', { exact: true }).click();

    // First run: cancel once tiles are moving.
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('tile progress shown', async () => /tile \d+\/\d+/.test((await page.getByTestId('job-status').textContent().catch(() => '')) ?? ''), 300_000, 50);
    await shot(page, 'tools-07-restore-tiles');
    const tCancel = Date.now();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await until('cancelled', async () => (await notice(page)).includes('cancelled'), 120_000);
    console.log(`[e2e] restore ${W}×${H}: cancel → idle ${Date.now() - tCancel} ms`);
    await shot(page, 'tools-08-restore-cancelled');

    const t0 = Date.now();
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('restore done', async () => (await notice(page)).includes('done in'), LARGE ? 1_800_000 : 300_000, 250);
    const ms = Date.now() - t0;
    const done = doneEvents(frames).at(-1)!;
    expect([done.width, done.height]).toEqual([W * 2, H * 2]);
    const tiles = progressEvents(frames).filter((p) => p.jobId === done.jobId && p.tile);
    expect(tiles.length).toBeGreaterThan(1);
    const m = tiles.at(-1)!.tile!.m;
    console.log(`[e2e] restore ×2 of ${W}×${H} (${((W * H) / 1e6).toFixed(1)} MP) with 1 step: ${(ms / 1000).toFixed(1)} s, ${m} tiles, engine ${done.elapsedMs} ms`);
    // Split view and the loupe on the result.
    await page.getByRole('radiogroup', { name: 'Compare before and after' }).getByText('Split').click();
    // The fitted image is centred, so the divider (split 0.5) sits at the canvas centre: drag it.
    const box = (await page.getByTestId('image-canvas').boundingBox())!;
    const splitBefore = Number(await page.getByLabel('Split position').inputValue());
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    expect(Number(await page.getByLabel('Split position').inputValue())).toBeGreaterThan(splitBefore + 0.05);
    await page.getByRole('button', { name: 'Loupe' }).click();
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5);
    await shot(page, 'tools-09-restore-split-loupe');
    expect(errors).toEqual([]);
    await page.close();
  }, LARGE ? 3_600_000 : 600_000);

  it('edits a large photo by instruction at working size and carries it to full size', async () => {
    const [W, H] = [1600, 1200];
    const file = path.join(work, 'large-photo.png');
    await sharp(texture(W, H, 11), { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 1 }).toFile(file);
    const { page, frames } = await studio.openApp();
    await appReady(page);
    await openByPath(page, file);
    await page.getByRole('radio', { name: /Test edit/ }).check();
    // The suggestions come from the pack's instruction table.
    await page.getByRole('group', { name: 'Suggested instructions' }).getByRole('button', { name: packs.instructions[1]! }).click();
    expect(await page.getByLabel('Instruction', { exact: true }).inputValue()).toBe(packs.instructions[1]);
    await page.getByLabel(/Strength/).fill('80');
    await page.getByRole('radiogroup', { name: 'Steps' }).getByText('1', { exact: true }).click();
    const t0 = Date.now();
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('edit done', async () => (await notice(page)).includes('done in'), 300_000);
    const done = doneEvents(frames).at(-1)!;
    expect([done.width, done.height]).toEqual([W, H]);
    expect(done.notes.join(' ')).toMatch(/carried to 1600×1200/);
    console.log(`[e2e] edit of ${W}×${H} at working size: ${Date.now() - t0} ms (engine ${done.elapsedMs} ms)`);
    await shot(page, 'tools-10-edit-large');
    await page.close();
  }, 600_000);

  it('runs a batch over a folder, reports the corrupt file, and lists recent files', async () => {
    const inDir = path.join(work, 'batch-in');
    const outDir = path.join(work, 'batch-out');
    await mkdir(path.join(inDir, 'nested'), { recursive: true });
    for (const [i, f] of ['one.png', 'two.png', path.join('nested', 'three.png')].entries()) {
      await sharp(texture(48, 40, 20 + i), { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(path.join(inDir, f));
    }
    await writeFile(path.join(inDir, 'nested', 'corrupt.png'), Buffer.from('definitely not an image'));
    const { page } = await studio.openApp();
    await appReady(page);
    await page.getByRole('button', { name: /^Batch…/ }).click();
    const dlg = page.getByRole('dialog', { name: /Batch/ });
    await dlg.getByLabel('Batch tool').selectOption('test-restore-x2');
    await dlg.getByLabel('Input folder').fill(inDir);
    await dlg.getByLabel('Output folder').fill(path.join(inDir, 'out'));
    await dlg.getByRole('button', { name: 'Start batch' }).click();
    await dlg.getByRole('alert').filter({ hasText: 'inside' }).waitFor();
    await dlg.getByLabel('Output folder').fill(outDir);
    await dlg.getByLabel('Steps').fill('1');
    await dlg.getByRole('button', { name: 'Start batch' }).click();
    await until('batch finished', async () => ((await dlg.getByTestId('batch-status').textContent()) ?? '').startsWith('Finished'), 300_000);
    expect(await dlg.getByTestId('batch-status').textContent()).toContain('4 of 4 files, 3 written');
    const report = await dlg.getByRole('list', { name: 'Batch report' }).textContent();
    expect(report).toContain('corrupt.png');
    expect(report).toContain('failed');
    expect((await sharp(path.join(outDir, 'nested', 'three.png')).metadata()).width).toBe(96);
    await shot(page, 'tools-11-batch-report');
    await dlg.getByRole('button', { name: 'Close', exact: true }).first().click();

    // Recent files: opening by path remembers it across a reload.
    const file = path.join(inDir, 'one.png');
    await openByPath(page, file);
    await page.reload();
    await appReady(page);
    const recent = page.getByLabel('Recent files');
    await recent.waitFor();
    expect(await recent.locator('option').allTextContents()).toContain('one.png');
    await recent.selectOption(file);
    await until('reopened from recent', async () => ((await page.getByTestId('image-canvas').getAttribute('aria-label')) ?? '').includes('one.png'));
    // The cheat-sheet lists the new shortcuts.
    await page.keyboard.press('Shift+?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    for (const label of ['Lasso', 'Rectangle', 'Invert mask', '100 % magnifier', 'Copy image', 'Run variations']) expect(await help.textContent()).toContain(label);
    await shot(page, 'tools-12-cheatsheet');
    await page.keyboard.press('Escape');
    await page.close();
  }, 600_000);
});
