/**
 * Entry of the personal-training worker process (forked with `--import tsx`, IPC channel
 * required). Two modes:
 *   worker.ts RUN_DIR              train (or resume) the job in RUN_DIR/job.json
 *   worker.ts --preflight JSON     check a pairs folder (+ optional time calibration), reply, exit
 * Parent messages while training: pause, cancel. Exit code 0 unless the job failed.
 */
import { runPreflightTask } from './preflight-task.ts';
import type { PreflightTask } from './preflight-task.ts';
import { readJob, runPersonalJob } from './session.ts';
import type { ParentMessage, WorkerMessage } from './protocol.ts';

const arg = process.argv[2];
if (!arg || typeof process.send !== 'function') {
  console.error('usage: node --import tsx training/personal/worker.ts (RUN_DIR | --preflight JSON), with an IPC channel');
  process.exit(2);
}

// IPC sends are asynchronous: the last messages must be flushed before the channel closes.
const pending = new Set<Promise<void>>();
const send = (m: WorkerMessage) => {
  if (!process.connected) return;
  const p = new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));
  pending.add(p);
  void p.then(() => pending.delete(p));
};

if (arg === '--preflight') {
  try {
    const task = JSON.parse(process.argv[3] ?? '') as PreflightTask;
    send({ type: 'preflight', result: await runPreflightTask(task) });
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
    process.exitCode = 1;
  }
} else {
  const control = { aborted: false, reason: null as 'pause' | 'cancel' | null };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'pause' || m.type === 'cancel') {
      control.aborted = true;
      // a cancel after a pause request still cancels
      if (control.reason !== 'cancel') control.reason = m.type;
    }
  });
  // The parent going away is a pause: the checkpoint is written and a later start resumes.
  process.on('disconnect', () => {
    control.aborted = true;
    control.reason ??= 'pause';
  });
  const job = await readJob(arg);
  const phase = await runPersonalJob(job, { send, control });
  process.exitCode = phase === 'failed' ? 1 : 0;
}
await Promise.all(pending);
if (process.connected) process.disconnect();
