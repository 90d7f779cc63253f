/**
 * The Models panel end to end in real Chromium (web mode) against the mock Hub (tests/hub): the
 * server's HF_ENDPOINT points at it, so nothing leaves 127.0.0.1.
 *
 * - Set a Hub token in the panel, look up a gated repo (licence and gate shown first, acceptance
 *   asked), pull it with live progress; the pack is listed with its size, source and licence and
 *   inpaints an opened image as a tool; the token never reaches the page, the server's output or
 *   any file the server wrote (pack, manifest, settings, autosave).
 * - A slow repo: start its pull, cancel it from the panel; nothing is installed and the notice
 *   says so. Then the pulled pack is removed (after a confirmation) and its tool is gone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import { startMockHub, tinyRepoFiles } from '../hub/mock-hub.ts';
import type { MockHub } from '../hub/mock-hub.ts';
import { appReady, describeE2E, notice, openByPath, shot, until, useStudio } from './harness.ts';

const TOKEN = 'hf_e2eTOKEN_0123456789abcdef';
const GATED = 'tester/gated-sd-onnx';
const SLOW = 'tester/slow-sd-onnx';

/** Everything the page received, as text (binary payloads left out). */
const received = (frames: ServerMessage[]) => JSON.stringify(frames, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v));
/** Every file under a folder, dot folders included. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}
/** The user packs installed (dot folders are staging and leftovers of a removal). */
const installed = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));

describeE2E('Models panel in Chromium (web mode) against the mock Hub', () => {
  let hub: MockHub | undefined;
  // started before the studio's own beforeAll reads its env
  beforeAll(async () => {
    const files = await tinyRepoFiles();
    hub = await startMockHub([
      { repo: GATED, files, gated: 'manual', token: TOKEN, licence: 'other' },
      { repo: SLOW, files },
    ]);
  });
  afterAll(async () => {
    await hub?.close();
  });
  const studio = useStudio({
    prefix: 'codi-e2e-models-',
    packs: 'test',
    env: () => ({ HF_ENDPOINT: hub?.url ?? '', HF_TOKEN: '', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }),
  });

  it('sets a token, shows the licence and gate, pulls with progress, lists the pack and runs it as a tool; the token stays in the broker', async () => {
    const { page, errors, frames } = await studio.openApp('', { width: 1440, height: 900 });
    await appReady(page);
    await page.getByRole('button', { name: /^Models…/ }).click();
    const panel = page.getByRole('dialog', { name: 'Models' });
    await until('settings shown', async () => (await panel.getByText(/Hub address/).textContent())?.includes(hub!.url));
    // web mode: the token is kept in the broker's memory only, and the panel says so
    expect(await panel.getByTestId('token-storage').textContent()).toContain('for this session only');

    // the token field is reached and submitted from the keyboard
    await panel.getByLabel('Hub token').focus();
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await until('token set', async () => (await panel.getByTestId('token-state').textContent().catch(() => ''))?.includes('token set'));
    expect(await panel.getByLabel('Hub token').inputValue()).toBe('');
    // offline first: starting the app, opening the panel and setting a token asked the Hub nothing
    expect(hub!.requests).toEqual([]);

    await panel.getByLabel('Repo id').fill(GATED);
    await panel.getByRole('button', { name: 'Look up' }).click();
    await until('summary shown', async () => panel.getByTestId('repo-summary').isVisible());
    expect(await panel.getByTestId('repo-licence').textContent()).toBe('other');
    expect(await panel.getByTestId('repo-gated').textContent()).toContain('gated');
    const pullButton = panel.getByRole('button', { name: 'Pull', exact: true });
    expect(await pullButton.isDisabled()).toBe(true);
    await shot(page, 'models-01-licence');
    await panel.getByRole('checkbox', { name: /I accept the licence/ }).check();
    await pullButton.click();
    await until('pull done', async () => (await panel.getByTestId('pull-progress').getAttribute('data-phase').catch(() => null)) === 'done', 120_000);
    const progress = frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'pull-progress' ? [f.e.pull] : []));
    expect(progress.map((p) => p.phase)).toContain('downloading');
    expect(progress.at(-1)).toMatchObject({ phase: 'done', pack: 'gated-sd-onnx' });
    expect(await installed(path.join(studio.work, 'user-packs'))).toEqual(['gated-sd-onnx']);

    const row = panel.locator('tr[data-pack="gated-sd-onnx"]');
    await until('pack listed', async () => row.isVisible());
    const rowText = (await row.textContent()) ?? '';
    expect(rowText).toContain('inpaint');
    expect(rowText).toContain(`${GATED}@${hub!.shaOf(GATED).slice(0, 7)}`);
    expect(rowText).toContain('other');
    expect(rowText).toMatch(/\d+(\.\d)? (KiB|MiB)/);
    await row.getByRole('button', { name: 'Verify gated-sd-onnx' }).click();
    await until('verified', async () => (await row.getByTestId('verify-result').textContent().catch(() => ''))?.includes('intact'));
    // a bundled pack is listed and can be checked, but offers no Remove
    const bundled = panel.locator('tr[data-pack="test-inpaint"]');
    expect(await bundled.textContent()).toContain('bundled');
    expect(await bundled.getByRole('button', { name: 'Remove test-inpaint' }).count()).toBe(0);
    await bundled.getByRole('button', { name: 'Verify test-inpaint' }).click();
    await until('bundled verified', async () => (await bundled.getByTestId('verify-result').textContent().catch(() => ''))?.includes('intact'));
    await shot(page, 'models-02-installed');
    // no layout breakage at 1440×900: the panel fits the window
    const box = (await panel.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(900);
    await panel.getByRole('button', { name: 'Close' }).click();

    // usable as a tool without a restart: open a picture, mask a box, run the pulled pack
    const photo = path.join(studio.work, 'photo.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toFile(photo);
    await openByPath(page, photo);
    await page.getByRole('radio', { name: new RegExp(GATED) }).check();
    await page.keyboard.press('m');
    const canvas = (await page.getByTestId('image-canvas').boundingBox())!;
    const cx = canvas.x + canvas.width / 2;
    const cy = canvas.y + canvas.height / 2;
    await page.mouse.move(cx - 20, cy - 20);
    await page.mouse.down();
    await page.mouse.move(cx + 20, cy + 20, { steps: 4 });
    await page.mouse.up();
    const run = page.getByRole('button', { name: /^Run/ });
    await until('mask enables Run', async () => !(await run.isDisabled()));
    await run.click();
    await until('inpainted with the pulled pack', async () => (await notice(page)).includes('done in'), 300_000, 250);
    const done = frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'job-done' ? [f.e.done] : [])).at(-1);
    expect(done && [done.width, done.height]).toEqual([64, 64]);
    await shot(page, 'models-03-ran');

    // the token went to the broker and the Hub, never back to the page or into the server's output
    expect(received(frames)).not.toContain(TOKEN);
    expect(studio.server.output()).not.toContain(TOKEN);
    // nor into any file: the pack and its manifest, the settings, the autosave, the staging folder
    const written = await filesUnder(studio.work);
    expect(written.length).toBeGreaterThan(10);
    for (const f of written) expect((await readFile(f)).includes(TOKEN), f).toBe(false);
    expect(hub!.requests.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(errors).toEqual([]);
  }, 600_000);

  it('cancels a slow pull from the panel (nothing installed, the notice says so), then removes the pulled pack after a confirmation', async () => {
    hub!.switches = { bytesPerSecond: 4096 };
    const { page, errors } = await studio.openApp('', { width: 1440, height: 900 });
    await appReady(page);
    await page.getByRole('button', { name: /^Models…/ }).click();
    const panel = page.getByRole('dialog', { name: 'Models' });
    await panel.getByLabel('Repo id').fill(SLOW);
    await panel.getByLabel('Repo id').press('Enter');
    await until('summary shown', async () => panel.getByTestId('repo-summary').isVisible());
    // MIT: nothing to accept
    expect(await panel.getByRole('checkbox', { name: /I accept the licence/ }).count()).toBe(0);
    await panel.getByRole('button', { name: 'Pull', exact: true }).click();
    await until('bytes arriving', async () => /downloading · [\d.]+ [KM]?i?B of/.test((await panel.getByTestId('pull-line').textContent().catch(() => '')) ?? ''), 60_000);
    expect((await panel.getByTestId('pull-line').textContent()) ?? '').toMatch(/\/s · .* left/);
    await shot(page, 'models-04-pulling');
    await panel.getByRole('button', { name: 'Cancel pull' }).click();
    await until('cancelled', async () => (await panel.getByTestId('pull-progress').getAttribute('data-phase')) === 'cancelled', 60_000);
    expect(await notice(page)).toContain(`Pull of ${SLOW} cancelled; nothing was installed.`);
    expect(await panel.getByTestId('models-message').textContent()).toContain('nothing was installed');
    expect(await installed(path.join(studio.work, 'user-packs'))).toEqual(['gated-sd-onnx']);
    await shot(page, 'models-05-cancelled');

    // remove asks first, then the pack and its tool are gone without a restart
    await panel.getByRole('button', { name: 'Remove gated-sd-onnx' }).click();
    await panel.getByRole('group', { name: 'Remove gated-sd-onnx?' }).getByRole('button', { name: 'Keep' }).click();
    expect(await installed(path.join(studio.work, 'user-packs'))).toEqual(['gated-sd-onnx']);
    await panel.getByRole('button', { name: 'Remove gated-sd-onnx' }).click();
    await panel.getByRole('button', { name: 'Yes, remove gated-sd-onnx' }).click();
    await until('removed', async () => (await notice(page)).includes('Removed "gated-sd-onnx"'));
    expect(await installed(path.join(studio.work, 'user-packs'))).toEqual([]);
    expect(await panel.locator('tr[data-pack="gated-sd-onnx"]').count()).toBe(0);
    expect(await page.getByRole('radio', { name: new RegExp(GATED) }).count()).toBe(0);
    expect(errors).toEqual([]);
  }, 300_000);
});
