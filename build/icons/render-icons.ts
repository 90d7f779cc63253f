/**
 * Renders build/icons/icon.svg to the PNG sizes electron-builder and the Linux desktop need.
 * electron-builder derives .ico/.icns from icon.png (≥ 512 px). Run: npx tsx build/icons/render-icons.ts
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const dir = fileURLToPath(new URL('.', import.meta.url));

export async function renderIcons(): Promise<string[]> {
  const svg = await readFile(`${dir}icon.svg`);
  const out: string[] = [];
  for (const size of [1024, 512, 256, 128, 64, 32, 16]) {
    const file = size === 1024 ? `${dir}icon.png` : `${dir}${size}x${size}.png`;
    await sharp(svg, { density: Math.ceil((72 * size) / 1024) * 4 }).resize(size, size).png().toFile(file);
    out.push(file);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await renderIcons();
  console.log(files.join('\n'));
}
