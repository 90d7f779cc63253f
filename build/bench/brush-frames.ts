/**
 * Benchmark (not a test): mask brush responsiveness on a 24-megapixel image in real Chromium
 * (web mode, real server and engine, test packs generated here).
 *
 *   npx tsx build/bench/brush-frames.ts [--strokes 100] [--mp 24]
 *
 * Prints p50/p95/max of
 *  - pointermove handling time: from the window's capture listener (before the canvas
 *    handler) to its bubble listener (after it), i.e. dab stamping + undo tile capture;
 *  - frame time: the duration of each requestAnimationFrame callback the app runs while
 *    painting (the redraw: image + mask overlay refresh + brush outline); raster of the
 *    recorded canvas commands happens after the callback and is not in this number, so
 *  - the interval between consecutive app frames is printed too (≈ 16.7 ms when no frame drops);
 * and the undo memory after N strokes as the app reports it (status bar "Undo: used / limit").
 * Target: p95 ≤ 16 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { makeTestPacks } from '../../tests/engine/fixtures/packs.ts';
import { buildRenderer, launchBrowser, startWebServer, until } from '../../tests/e2e/harness.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : NaN;
}

function line(name: string, xs: number[]): string {
  return `${name.padEnd(28)} n=${String(xs.length).padStart(5)}  p50=${pct(xs, 50).toFixed(2)} ms  p95=${pct(xs, 95).toFixed(2)} ms  max=${Math.max(...xs).toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const strokes = arg('--strokes', 100);
  const mp = arg('--mp', 24);
  const W = Math.round(Math.sqrt((mp * 1e6 * 3) / 2));
  const H = Math.round((W * 2) / 3);
  const work = await mkdtemp(path.join(tmpdir(), 'codi-bench-brush-'));
  const t0 = Date.now();
  try {
    const packs = await makeTestPacks(path.join(work, 'packs'));
    const img = path.join(work, `photo-${W}x${H}.png`);
    // Smooth gradients compress well, so the file is quick to write and decode.
    await sharp({ create: { width: W, height: H, channels: 3, background: { r: 90, g: 120, b: 160 } } }).png({ compressionLevel: 1 }).toFile(img);
    const rendererDir = path.join(work, 'renderer');
    await buildRenderer(rendererDir);
    const server = await startWebServer({ CODI_PACKS: packs.dir, CODI_USER_PACKS: path.join(work, 'user'), CODI_USER_DATA: path.join(work, 'user-data'), CODI_RENDERER_DIR: rendererDir, CODI_THREADS: '1', CODI_EP: 'cpu' });
    const { context, userDataDir } = await launchBrowser();
    try {
      const page = await context.newPage();
      // Time every animation-frame callback and every pointermove (capture → bubble on window).
      // Page code as strings: this file is type-checked without the DOM library.
      await page.addInitScript(`
        window.__frames = []; window.__moves = []; window.__starts = []; window.__painting = false;
        const raf = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = (cb) => raf((ts) => {
          const a = performance.now();
          cb(ts);
          if (window.__painting) { window.__frames.push(performance.now() - a); window.__starts.push(ts); }
        });
        let start = 0;
        window.addEventListener('pointermove', () => { start = performance.now(); }, { capture: true });
        window.addEventListener('pointermove', () => { if (window.__painting) window.__moves.push(performance.now() - start); });
      `);
      await page.goto(server.url);
      await until('engine ready', async () => (await page.getByRole('status', { name: 'Engine status' }).getAttribute('data-state')) === 'ready', 120_000);
      await page.getByRole('button', { name: 'Open path…' }).click();
      await page.getByLabel('Image path').fill(img);
      await page.getByRole('button', { name: 'Open', exact: true }).click();
      await until('image open', async () => ((await page.getByTestId('image-canvas').getAttribute('aria-label')) ?? '').includes(path.basename(img)), 300_000);
      await page.getByRole('radio', { name: /Test inpaint/ }).check();
      await page.getByLabel(/Brush size/).fill('120');
      const box = (await page.getByTestId('image-canvas').boundingBox())!;
      await page.waitForTimeout(500);
      await page.evaluate('window.__painting = true');
      const tPaint = Date.now();
      for (let s = 0; s < strokes; s++) {
        const y = box.y + 40 + ((s * 37) % Math.max(1, Math.floor(box.height - 80)));
        const x0 = box.x + 40 + ((s * 53) % 200);
        await page.mouse.move(x0, y);
        await page.mouse.down();
        await page.mouse.move(x0 + Math.min(500, box.width - 300), y + 30, { steps: 20 });
        await page.mouse.up();
      }
      await page.waitForTimeout(300);
      const { frames, moves, starts } = await page.evaluate<{ frames: number[]; moves: number[]; starts: number[] }>(
        '(() => { window.__painting = false; return { frames: window.__frames, moves: window.__moves, starts: window.__starts }; })()',
      );
      // Gaps between consecutive app frames shorter than 100 ms (longer ones are pauses between
      // strokes): ~16.7 ms when every frame is on time, 33+ ms when raster made one drop.
      const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number)).filter((g) => g < 100);
      const paintS = (Date.now() - tPaint) / 1000;
      const undo = await page.getByLabel('Undo memory').textContent();
      console.log(`brush benchmark: ${W}×${H} (${((W * H) / 1e6).toFixed(1)} MP), ${strokes} strokes × 20 moves, brush 120 px, Chromium headless (software raster)`);
      console.log(line('pointermove handling', moves));
      console.log(line('frame (rAF callback)', frames));
      console.log(line('interval between app frames', gaps));
      console.log(`frames ≤ 16 ms: ${((100 * frames.filter((f) => f <= 16).length) / Math.max(1, frames.length)).toFixed(1)} %`);
      console.log(`undo memory after ${strokes} strokes: ${undo?.replace('Undo: ', '')}`);
      console.log(`painting wall time ${paintS.toFixed(1)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      await context.close();
      await server.stop();
      await rm(userDataDir, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
