/**
 * `npm run bench:adapter`: a personal adapter end to end on real photos.
 * ~30 before/after pairs: 256² crops of the .cache/debian-photos TRAIN photos (fetched from Debian
 * packages on the first run, as `codi build-dataset` does), "after" made by
 * a hidden look (adapter-look.ts) the trainer never sees. Then the app's own path: the worker
 * process (preflight → dataset → PE-CoDi on the bundled backbone → export), Quick preset.
 * Reports wall time (target ≤ 10 min) and, on the held-out pairs, the adapter's PSNR to the
 * targets vs the unedited inputs' PSNR (target ≥ +3 dB). Options: --preset, --pairs, --steps.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_PHOTO_CACHE, ensurePhotoLibrary } from '../../training/data/debian-fetch.ts';
import { startWorker } from '../../training/personal/launcher.ts';
import type { PersonalJob, WorkerMessage } from '../../training/personal/protocol.ts';
import type { PresetId } from '../../training/personal/presets.ts';
import { tealOrangeVignette } from './adapter-look.ts';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const PHOTOS = DEFAULT_PHOTO_CACHE;

async function makePairs(dir: string, n: number, side: number): Promise<number> {
  // a fresh clone has no photo library yet: fetch it (apt-get download + dpkg -x, then reused)
  const sources = await ensurePhotoLibrary(PHOTOS, (s) => console.log(s));
  const train = sources.photos.filter((p) => p.split === 'train' && p.prepared);
  if (train.length === 0) throw new Error(`no train photos in ${PHOTOS}; delete its sources.json and run again to fetch them`);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const rec = train[i % train.length]!;
    // a second pass over the photos takes a different region
    const pass = Math.floor(i / train.length);
    const img = sharp(path.join(PHOTOS, rec.prepared)).removeAlpha().toColourspace('srgb').resize({ width: 2 * side, height: 2 * side, fit: 'outside' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    const left = pass % 2 === 0 ? Math.floor((info.width - side) / 2) : 0;
    const top = pass % 2 === 0 ? Math.floor((info.height - side) / 2) : 0;
    const crop = Buffer.alloc(side * side * 3);
    for (let y = 0; y < side; y++) data.copy(crop, y * side * 3, ((top + y) * info.width + left) * 3, ((top + y) * info.width + left + side) * 3);
    const raw = { width: side, height: side, channels: 3 as const };
    const name = `photo-${String(i).padStart(2, '0')}`;
    await sharp(crop, { raw }).png().toFile(path.join(dir, `${name}.png`));
    await sharp(tealOrangeVignette(crop, side, side), { raw }).png().toFile(path.join(dir, `${name}.edited.png`));
  }
  return n;
}

const { values } = parseArgs({ options: { preset: { type: 'string', default: 'quick' }, pairs: { type: 'string', default: '30' }, steps: { type: 'string' }, keep: { type: 'boolean', default: false } } });
const work = await mkdtemp(path.join(os.tmpdir(), 'codi-bench-adapter-'));
try {
  const pairsDir = path.join(work, 'pairs');
  const nPairs = await makePairs(pairsDir, Number(values.pairs), 256);
  const job: PersonalJob = {
    runDir: path.join(work, 'run'),
    source: { dir: pairsDir },
    align: 'crop',
    preset: values.preset as PresetId,
    backbonePack: path.join(REPO, 'native-models', 'codi-backbone'),
    userPacksDir: path.join(work, 'packs'),
    name: 'bench-look',
    title: 'Bench look',
    seed: 0,
    ...(values.steps ? { steps: Number(values.steps) } : {}),
  };
  const t0 = performance.now();
  let last = 0;
  let done: Extract<WorkerMessage, { type: 'done' }> | undefined;
  let backend = '';
  const w = await startWorker(job, (m) => {
    if (m.type === 'backend') backend = `${m.name} (${m.why})`;
    if (m.type === 'progress' && (m.step - last >= 25 || m.step === m.totalSteps)) {
      last = m.step;
      console.log(`step ${m.step}/${m.totalSteps} loss ${m.losses.total?.toFixed(4)} ${m.samplesPerSec.toFixed(2)} samples/s eta ${Math.round(m.etaSec)} s`);
    }
    if (m.type === 'phase') console.log(`phase ${m.phase}${m.detail ? `: ${m.detail}` : ''}`);
    if (m.type === 'error') console.error(`error: ${m.message}`);
    if (m.type === 'done') done = m;
  });
  const code = await w.exited;
  const wall = (performance.now() - t0) / 1000;
  if (!done) throw new Error(`the worker ended without a pack (exit ${code})`);
  const d = done;
  const report = {
    preset: values.preset,
    pairs: nPairs,
    backend,
    steps: d.steps,
    trainSeconds: Math.round(d.wallSeconds),
    wallSeconds: Math.round(wall),
    heldOutPsnrAdapter: Number(d.psnr.toFixed(2)),
    heldOutPsnrUnedited: Number(d.psnrInput.toFixed(2)),
    gainDb: Number((d.psnr - d.psnrInput).toFixed(2)),
    targets: { wallSeconds: 600, gainDb: 3 },
  };
  console.log(JSON.stringify(report, null, 2));
  await writeFile(path.join(REPO, 'test-results', 'bench-adapter.json'), `${JSON.stringify(report, null, 2)}\n`).catch(() => {});
} finally {
  if (!values.keep) await rm(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
