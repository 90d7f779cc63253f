#!/usr/bin/env node
// The `codi` command: runs the TypeScript CLI (electron/cli/codi.ts) through tsx, in process.
// `codi train …` goes to the training CLI (training/cli/train.ts, runTrainCommand).
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);

if (argv[0] === 'train') {
  let mod;
  try {
    mod = await import('../training/cli/train.ts');
  } catch (err) {
    const missing = err && (err.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(String(err.message)));
    console.error(missing ? 'codi: training is not available in this install (training/cli/train.ts is missing)' : `codi: ${err?.stack ?? err}`);
    process.exit(1);
  }
  if (typeof mod.runTrainCommand !== 'function') {
    console.error('codi: training/cli/train.ts does not export runTrainCommand(argv)');
    process.exit(1);
  }
  const code = await mod.runTrainCommand(argv.slice(1));
  process.exitCode = typeof code === 'number' ? code : 0;
} else {
  const { main } = await import('../electron/cli/codi.ts');
  process.exitCode = await main(argv);
}
