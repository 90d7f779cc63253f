/**
 * Two promises of a new user's first hour, end to end in Chromium (web mode) against the real
 * web server and engine:
 * - the opened original survives: a photo opened through each open path (the Open… file picker,
 *   whose bytes reach the engine without a path, and Open path…) is run through a tool and saved
 *   over itself with every confirmation accepted; the second confirmation names it as the
 *   original, its exact bytes end up in the freedesktop.org trash (a private XDG_DATA_HOME) with
 *   a .trashinfo, and the notice says where;
 * - the recovery offer: a reload or a closed tab is a normal close and offers nothing; a crashed
 *   tab (chrome://crash) is offered on the next start, naming the real last edit (the inpaint,
 *   not the mask stroke before it), in a bar that leaves every toolbar control uncovered.
 */
import { it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { describeE2E, dismissRecovery, engineReady, notice, shot, showing as showingWithin, until, useStudio } from './harness.ts';

let work: string;

/** Engine ready and the start-up look for a crashed session over (its offer, if any, still open). */
async function started(page: Page): Promise<void> {
  await engineReady(page);
  await page.locator('[data-testid="recovery-check"][data-state="done"]').waitFor({ state: 'attached', timeout: 60_000 });
}

const showing = (page: Page, name: string) => showingWithin(page, name, 120_000);

async function photo(name: string, W: number, H: number, seed: number): Promise<string> {
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgb.set([(x * 255) / W, (y * 255) / H, (x * 7 + y * 13 + seed * 29) & 255], (y * W + x) * 3);
  const file = path.join(work, 'photos', name);
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
  return file;
}

async function runTool(page: Page, pack: RegExp): Promise<void> {
  await page.getByRole('radio', { name: pack }).check();
  const runButton = page.getByRole('button', { name: /^Run/ });
  await until('Run enabled', async () => !(await runButton.isDisabled()));
  await runButton.click();
  await until('tool done', async () => (await notice(page)).includes('done in'), 300_000, 200);
}

async function brushStroke(page: Page): Promise<void> {
  await page.getByRole('radio', { name: /Test inpaint/ }).check();
  await page.getByLabel(/Brush size/).fill('30');
  const box = (await page.getByTestId('image-canvas').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 60, cy);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(cx - 60 + i * 10, cy + (i % 3) * 6);
  await page.mouse.up();
}

/** The last edit named by the autosave on disk (null: none stored). */
async function storedLastEdit(): Promise<string | null> {
  const dir = path.join(work, 'user-data', 'autosave');
  try {
    const cur = JSON.parse(await readFile(path.join(dir, 'current.json'), 'utf8')) as { gen: string };
    const meta = JSON.parse(await readFile(path.join(dir, cur.gen, 'session.json'), 'utf8')) as { state: string };
    return (JSON.parse(meta.state) as { history: { undo: string | null } }).history.undo;
  } catch {
    return null;
  }
}

function overlaps(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describeE2E('the original survives and the recovery offer is right (Chromium, web mode)', () => {
  const studio = useStudio({
    prefix: 'codi-e2e-originals-',
    prepare: async (ws) => {
      work = ws.work;
      await mkdir(path.join(work, 'photos'));
    },
    // The desktop trash the engine keeps replaced originals in: private to this test.
    env: (dir) => ({ XDG_DATA_HOME: path.join(dir, 'xdg-data') }),
  });

  for (const via of ['Open… file picker', 'Open path…'] as const) {
    it(`saving over the original opened with ${via}, every confirmation accepted, keeps its exact bytes in the trash and says so`, async () => {
      const name = via === 'Open path…' ? 'typed.png' : 'picked.png';
      const file = await photo(name, 64, 48, name.length);
      const before = await readFile(file);
      const { page, errors } = await studio.openApp();
      await engineReady(page);
      await dismissRecovery(page);
      if (via === 'Open path…') {
        await page.getByRole('button', { name: 'Open path…' }).click();
        await page.getByLabel('Image path').fill(file);
        await page.getByRole('button', { name: 'Open', exact: true }).click();
      } else {
        const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Open…' }).click()]);
        await chooser.setFiles(file);
      }
      await showing(page, name);
      await runTool(page, /Test restore/);

      await page.getByRole('button', { name: 'Save as…' }).click();
      await page.getByLabel('File path').fill(file);
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      // First confirmation: the file exists.
      await page.getByRole('button', { name: 'Replace', exact: true }).click();
      // Second, separate confirmation: the engine found this is the original that is open.
      const confirm = page.getByRole('alert', { name: 'Replace the original' });
      await confirm.waitFor();
      expect(await confirm.textContent()).toMatch(/is the original photo you opened/);
      expect((await readFile(file)).equals(before)).toBe(true); // nothing replaced yet
      await shot(page, `originals-${name}-confirm`);
      await confirm.getByRole('button', { name: 'Replace the original' }).click();

      const kept = path.join(work, 'xdg-data', 'Trash', 'files', name);
      await until('saved notice', async () => (await notice(page)).includes(`Saved ${file}`), 60_000);
      const text = await notice(page);
      expect(text).toContain(`The original's previous file is in the trash: ${kept}`);
      await shot(page, `originals-${name}-saved`);
      // The original's exact bytes, where the notice says, with the trash's record of where it was.
      expect((await readFile(kept)).equals(before)).toBe(true);
      const info = await readFile(path.join(work, 'xdg-data', 'Trash', 'info', `${name}.trashinfo`), 'utf8');
      expect(info).toMatch(new RegExp(`^\\[Trash Info\\]\\nPath=${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\nDeletionDate=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\n$`));
      // And the file itself is now the edit (the ×2 restore).
      expect(await sharp(file).metadata()).toMatchObject({ width: 128, height: 96 });
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('a reload or a closed tab offers nothing; a crashed tab is offered, naming the inpaint, without covering the toolbar', async () => {
    const file = await photo('session.png', 96, 72, 5);
    const { page } = await studio.openApp();
    await started(page);
    await dismissRecovery(page);
    await page.getByRole('button', { name: 'Open path…' }).click();
    await page.getByLabel('Image path').fill(file);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await showing(page, 'session.png');
    await brushStroke(page);
    await until('mask stroke autosaved', async () => (await storedLastEdit()) === 'Paint mask', 30_000);
    await runTool(page, /Test inpaint/);
    // Saved within seconds of the inpaint (the 30 s timer alone left "Paint mask" here).
    await until('inpaint autosaved', async () => (await storedLastEdit()) === 'Test inpaint', 15_000);

    // A reload is a normal close: no offer.
    await page.reload();
    await started(page);
    expect(await page.getByRole('alertdialog', { name: 'Recover unsaved session' }).count()).toBe(0);
    expect(await storedLastEdit()).toBeNull();

    // A closed tab too.
    await page.getByRole('button', { name: 'Open path…' }).click();
    await page.getByLabel('Image path').fill(file);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await showing(page, 'session.png');
    await runTool(page, /Test restore/);
    await until('restore autosaved', async () => /Test restore/.test((await storedLastEdit()) ?? ''), 15_000);
    await page.close();
    const { page: second } = await studio.openApp();
    await started(second);
    expect(await second.getByRole('alertdialog', { name: 'Recover unsaved session' }).count()).toBe(0);

    // A crashed tab: the next start offers the session, naming its real last edit.
    await second.getByRole('button', { name: 'Open path…' }).click();
    await second.getByLabel('Image path').fill(file);
    await second.getByRole('button', { name: 'Open', exact: true }).click();
    await showing(second, 'session.png');
    await brushStroke(second);
    await runTool(second, /Test inpaint/);
    await until('inpaint autosaved', async () => (await storedLastEdit()) === 'Test inpaint', 15_000);
    await second.goto('chrome://crash').catch(() => undefined);
    await second.close().catch(() => undefined);

    const { page: third } = await studio.openApp();
    await started(third);
    const offer = third.getByRole('alertdialog', { name: 'Recover unsaved session' });
    await until('recovery offer', () => offer.isVisible(), 30_000);
    expect(await offer.textContent()).toMatch(/did not close normally.*session\.png \(96 × 72, with its mask, last edit: Test inpaint\)/);
    await shot(third, 'recovery-offer-after-crash');
    // In the page flow above the toolbar: no toolbar control is covered, and the top one answers a click.
    const bar = (await offer.boundingBox())!;
    const buttons = third.getByRole('toolbar', { name: 'Main' }).getByRole('button');
    for (let i = 0; i < (await buttons.count()); i++) {
      const b = await buttons.nth(i).boundingBox();
      if (b) expect(overlaps(bar, b), `toolbar button ${i} under the recovery bar`).toBe(false);
    }
    const open = (await third.getByRole('button', { name: 'Open path…' }).boundingBox())!;
    const hit = await third.evaluate(`document.elementFromPoint(${open.x + open.width / 2}, ${open.y + open.height / 2})?.textContent`);
    expect(hit).toBe('Open path…');
    await offer.getByRole('button', { name: 'Restore' }).click();
    await showing(third, 'session.png');
    expect(existsSync(path.join(work, 'user-data', 'autosave', 'current.json'))).toBe(true);
    await third.close();
  });
});
