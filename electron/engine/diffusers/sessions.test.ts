import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyPipeline, TINY } from '../../../tests/fixtures-gen/diffusers-tiny.ts';
import { OrtRuntime } from '../ort.ts';
import type { ExternalDataFile, LoadedSession } from '../ort.ts';
import { importDiffusersPack } from './import.ts';
import { loadGraph, readPackHead } from './sessions.ts';

/** Records what each load handed to ONNX Runtime. */
class RecordingRuntime extends OrtRuntime {
  readonly loads: { modelBytes: number; external: string[] }[] = [];
  override load(key: string, model: Uint8Array, externalData?: readonly ExternalDataFile[]): Promise<LoadedSession> {
    this.loads.push({ modelBytes: model.byteLength, external: (externalData ?? []).map((f) => `${f.path}:${f.data.byteLength}`) });
    return super.load(key, model, externalData);
  }
}

let tmp = '';
const inlined = new RecordingRuntime({ providers: ['cpu'], threads: 1 });
const external = new RecordingRuntime({ providers: ['cpu'], threads: 1 });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'codi-sessions-'));
  await writeTinyPipeline(join(tmp, 'src'), { unet: { inChannels: 4, timestep: 'int64', residuals: false } });
  await importDiffusersPack(join(tmp, 'src'), { into: join(tmp, 'packs'), name: 'sd' });
});
afterAll(async () => {
  await inlined.releaseAll();
  await external.releaseAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('loadGraph', () => {
  it('hands external data to ONNX Runtime in memory above the inline limit, with the same results', async () => {
    const { root, manifest, sidecar } = await readPackHead(join(tmp, 'packs', 'sd'));
    const entry = sidecar.unet!;
    const dataFile = manifest.files.find((f) => f.path === 'unet/model.onnx_data')!;
    const a = await loadGraph(root, manifest, entry, inlined);
    const b = await loadGraph(root, manifest, entry, external, { inlineLimit: 0 });
    expect(inlined.loads[0]!.external).toEqual([]);
    expect(inlined.loads[0]!.modelBytes).toBeGreaterThan(dataFile.bytes);
    expect(external.loads[0]!.external).toEqual([`model.onnx_data:${dataFile.bytes}`]);
    expect(external.loads[0]!.modelBytes).toBeLessThan(dataFile.bytes);
    const n = 2 * 4 * 8 * 8;
    const feeds = {
      sample: { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)), dims: [2, 4, 8, 8] },
      timestep: { data: Float32Array.of(501), dims: [1] },
      encoder_hidden_states: { data: new Float32Array(2 * TINY.seq * TINY.hidden).fill(0.3), dims: [2, TINY.seq, TINY.hidden] },
    };
    const ra = (await a.run(feeds)).out_sample!;
    const rb = (await b.run(feeds)).out_sample!;
    expect(rb.dims).toEqual([2, 4, 8, 8]);
    expect(Array.from(rb.data)).toEqual(Array.from(ra.data));
    expect(ra.data.some((v) => v !== 0)).toBe(true);
  });
});
