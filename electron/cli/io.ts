/**
 * Where the `codi` commands write and what they read of their surroundings, in a module of its
 * own so each command (codi.ts, batch.ts) takes it without importing another command's file.
 */
import { createInterface } from 'node:readline/promises';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
  /** Whether stderr is a terminal (progress redraws in place). */
  tty: boolean;
  /** Text to stderr without a newline (a progress bar redrawn with \r); absent = lines only. */
  write?(text: string): void;
  /** Ask a yes/no question on the terminal; absent when stdin is not a terminal (the answer is then no). */
  confirm?(question: string): Promise<boolean>;
  /** Run `onInterrupt` on Ctrl-C until the returned function is called (long commands cancel cleanly). */
  onInterrupt?(onInterrupt: () => void): () => void;
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export const defaultIo: CliIo = {
  env: process.env,
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  tty: Boolean(process.stderr.isTTY),
  write: (t) => process.stderr.write(t),
  ...(process.stdin.isTTY ? { confirm: askYesNo } : {}),
  onInterrupt: (fn) => {
    process.once('SIGINT', fn);
    return () => process.off('SIGINT', fn);
  },
};
