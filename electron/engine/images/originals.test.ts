import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenOriginals } from './originals.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'engine-originals-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('OpenOriginals: the engine decides which files are open as originals', () => {
  it('a file opened by path is its original, under any name that reaches it, until released', async () => {
    const p = join(dir, 'photo.jpg');
    await writeFile(p, 'jpeg bytes');
    await symlink(p, join(dir, 'alias.jpg'));
    await writeFile(join(dir, 'other.jpg'), 'jpeg bytes');
    const o = new OpenOriginals();
    expect(await o.isOriginal(p)).toBe(false);
    o.add('img_a', { path: p });
    expect(await o.isOriginal(p)).toBe(true);
    expect(await o.isOriginal(join(dir, 'sub', '..', 'photo.jpg'))).toBe(true);
    expect(await o.isOriginal(join(dir, 'alias.jpg'))).toBe(true);
    expect(await o.isOriginal(join(dir, 'new.jpg'))).toBe(false); // does not exist: nothing to replace
    o.remove('img_a');
    expect(await o.isOriginal(p)).toBe(false);
  });

  it('bytes from the file picker are found on disk by their content', async () => {
    const picked = Buffer.from('the exact bytes the browser uploaded');
    const onDisk = join(dir, 'picked.png');
    await writeFile(onDisk, picked);
    const sameSize = join(dir, 'same-size.png');
    await writeFile(sameSize, Buffer.from('THE EXACT BYTES THE BROWSER UPLOADED'));
    const o = new OpenOriginals();
    o.add('img_b', { bytes: new Uint8Array(picked) });
    expect(await o.isOriginal(onDisk)).toBe(true);
    expect(await o.isOriginal(sameSize)).toBe(false);
    // Edited later by another program: no longer the bytes that were opened.
    await writeFile(onDisk, 'changed');
    expect(await o.isOriginal(onDisk)).toBe(false);
  });
});
