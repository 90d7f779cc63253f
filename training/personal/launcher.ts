/**
 * Parent side of the worker: write job.json and fork worker.ts (never train in the caller's
 * process). Used by the bench and the tests; the broker has its own copy of the fork call
 * because electron/ may not import training/.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { ParentMessage, PersonalJob, WorkerMessage } from './protocol.ts';
import { runPaths } from './session.ts';

export const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPO_ROOT = path.resolve(path.dirname(WORKER_ENTRY), '..', '..');

export interface WorkerHandle {
  child: ChildProcess;
  send: (m: ParentMessage) => void;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Write the job (unless the run folder already has one: a resume) and start the worker. */
export async function startWorker(job: PersonalJob, onMessage: (m: WorkerMessage) => void): Promise<WorkerHandle> {
  await mkdir(job.runDir, { recursive: true });
  const jobFile = runPaths(job.runDir).job;
  if (!existsSync(jobFile)) await writeFile(jobFile, `${JSON.stringify(job, null, 2)}\n`);
  return resumeWorker(job.runDir, onMessage);
}

/** Only what the worker needs: a parent's loader hooks (tsx, vitest) must not leak into it. */
function workerEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'USERPROFILE', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'SYSTEMROOT']) if (source[k] !== undefined) env[k] = source[k];
  return env;
}

/** Start the worker on an existing run folder (after a pause, an app restart or a crash). */
export function resumeWorker(runDir: string, onMessage: (m: WorkerMessage) => void): WorkerHandle {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(WORKER_ENTRY, [runDir], {
    serialization: 'advanced',
    execArgv: ['--import', tsx],
    cwd: REPO_ROOT,
    env: workerEnv(),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.on('message', (m) => onMessage(m as WorkerMessage));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    exited,
  };
}
