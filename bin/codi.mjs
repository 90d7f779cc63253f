#!/usr/bin/env node
// The `codi` command: runs the TypeScript CLI (electron/cli/codi.ts) through tsx, in process.
// `codi train …` goes to the training CLI (training/cli/train.ts, runTrainCommand).
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);
// `codi models | head`: the reader has gone, which is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// Training commands live in training/ (TensorFlow.js); electron/ never imports them.
const TRAINING_COMMANDS = {
  train: ['../training/cli/train.ts', 'runTrainCommand'],
  'build-dataset': ['../training/cli/build-dataset.ts', 'runBuildDatasetCommand'],
};

if (argv[0] in TRAINING_COMMANDS) {
  const [file, fn] = TRAINING_COMMANDS[argv[0]];
  let mod;
  try {
    mod = await import(file);
  } catch (err) {
    const missing = err && (err.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(String(err.message)));
    console.error(missing ? `codi: training is not available in this install (${file.slice(3)} is missing)` : `codi: ${err?.stack ?? err}`);
    process.exit(1);
  }
  if (typeof mod[fn] !== 'function') {
    console.error(`codi: ${file.slice(3)} does not export ${fn}(argv)`);
    process.exit(1);
  }
  const code = await mod[fn](argv.slice(1));
  process.exitCode = typeof code === 'number' ? code : 0;
} else {
  const { main } = await import('../electron/cli/codi.ts');
  process.exitCode = await main(argv);
}
