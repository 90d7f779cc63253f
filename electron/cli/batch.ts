/**
 * `codi batch <restore|edit|pack> <inDir> -o <outDir> [--steps N] [--prompt TEXT] [--pack NAME]
 *             [--scale N] [--strength X] [--seed N] [--format png|jpeg|webp|tiff|avif]
 *             [--quality N] [--keep-metadata] [--overwrite]`
 *
 * The app's batch (electron/broker/batch.ts) from the command line: the output tree mirrors
 * the input tree, the input folder is never written to, existing outputs are skipped unless
 * --overwrite, and a file that fails is reported without stopping the rest. Ctrl+C cancels
 * (the running job too). Exit code: 0 all written or skipped, 1 some failed, 2 usage.
 */
import type { CliIo } from './io.ts';
import { imageFormat, startBatchRequest } from '../contract/schemas.ts';
import { createCodiApi } from '../broker/api.ts';
import { BatchRun, checkFolders } from '../broker/batch.ts';
import { engineConfigFromEnv } from '../broker/config.ts';
import { EngineHost } from '../broker/engine-host.ts';
import { forkEngine } from '../broker/fork.ts';

export const BATCH_USAGE = `usage: codi batch <restore|edit|pack name> <input folder> -o <output folder>
         [--steps N] [--prompt TEXT] [--pack NAME] [--scale N] [--strength X] [--seed N]
         [--format png|jpeg|webp|tiff|avif] [--quality N] [--keep-metadata] [--overwrite]`;

export class BatchUsageError extends Error {}

/** Parse the arguments into a validated startBatch request (pack names are resolved later). */
export function parseBatchArgs(args: readonly string[]): { tool: string; params: Record<string, unknown> } {
  const positional: string[] = [];
  const params: Record<string, unknown> = {};
  const num = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new BatchUsageError(`${name} needs a number`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    if (a === '--overwrite') {
      params.overwrite = true;
      continue;
    }
    if (a === '--keep-metadata') {
      params.keepMetadata = true;
      continue;
    }
    const v = args[++i];
    if (v === undefined) throw new BatchUsageError(`${a} needs a value`);
    switch (a) {
      case '-o':
      case '--output':
        params.outDir = v;
        break;
      case '--steps':
      case '--scale':
      case '--seed':
      case '--quality':
        params[a.slice(2)] = num(a, v);
        break;
      case '--strength':
        params.strength = num(a, v);
        break;
      case '--prompt':
        params.prompt = v;
        break;
      case '--pack':
        params.pack = v;
        break;
      case '--format':
        if (!imageFormat.safeParse(v).success) throw new BatchUsageError(`--format must be one of ${imageFormat.options.join(', ')}`);
        params.format = v;
        break;
      default:
        throw new BatchUsageError(`unknown option ${a}`);
    }
  }
  if (positional.length !== 2) throw new BatchUsageError('batch needs <tool> and <input folder>');
  if (typeof params.outDir !== 'string') throw new BatchUsageError('batch needs -o <output folder>');
  params.inDir = positional[1];
  return { tool: positional[0] as string, params };
}

export async function runBatchCommand(args: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseBatchArgs>;
  try {
    parsed = parseBatchArgs(args);
  } catch (err) {
    if (err instanceof BatchUsageError) {
      io.err(`codi: ${err.message}\n${BATCH_USAGE}`);
      return 2;
    }
    throw err;
  }
  const problem = await checkFolders(parsed.params.inDir as string, parsed.params.outDir as string);
  if (problem) {
    io.err(`codi: ${problem}`);
    return 2;
  }
  const host = new EngineHost({ spawn: forkEngine(engineConfigFromEnv(io.env)) });
  const api = createCodiApi(host, { appInfo: { mode: 'cli', version: '0', nativeDialogs: false, canSaveToPath: true } });
  let stop: (() => void) | null = null;
  const onSigint = () => stop?.();
  process.once('SIGINT', onSigint);
  try {
    let tool = parsed.tool;
    if (tool !== 'restore' && tool !== 'edit') {
      const list = await api.listPacks({});
      const byName = list.ok ? list.value.packs.find((p) => p.name === tool) : undefined;
      if (!byName || (byName.task !== 'restore' && byName.task !== 'edit')) {
        io.err(`codi: batch runs restore or edit (or a restore/edit pack name), not "${tool}"`);
        return 2;
      }
      tool = byName.task;
      parsed.params.pack = byName.name;
    }
    const req = startBatchRequest.safeParse({ ...parsed.params, tool });
    if (!req.success) {
      const i = req.error.issues[0];
      io.err(`codi: ${i ? `${i.path.join('.')}: ${i.message}` : 'invalid arguments'}\n${BATCH_USAGE}`);
      return 2;
    }
    const run = new BatchRun('batch_cli', api, req.data, (p) => {
      if (p.current && io.tty) io.err(`\u001b[2K\r[${p.done + 1}/${p.total}] ${p.current}`);
    });
    stop = () => {
      io.err('\ncancelling…');
      run.cancel();
    };
    const total = await run.prepare();
    io.out(`${total} image${total === 1 ? '' : 's'} in ${req.data.inDir}`);
    const t0 = Date.now();
    const end = await run.run();
    if (io.tty) io.err('');
    for (const r of run.report) io.out(`${r.status.padEnd(9)} ${r.input}${r.status === 'done' ? ` → ${r.output}` : ''}${r.message ? `: ${r.message}` : ''}`);
    const count = (s: string) => run.report.filter((r) => r.status === s).length;
    io.out(`${count('done')} written, ${count('skipped')} skipped, ${count('failed')} failed${count('cancelled') ? `, ${count('cancelled')} cancelled` : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return end.state === 'cancelled' ? 130 : count('failed') > 0 ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await host.stop();
  }
}
