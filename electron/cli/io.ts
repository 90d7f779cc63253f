/**
 * Where the `codi` commands write and what they read of their surroundings, in a module of its
 * own so each command (codi.ts, batch.ts) takes it without importing another command's file.
 */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
  /** Whether stderr is a terminal (progress redraws in place). */
  tty: boolean;
}

export const defaultIo: CliIo = {
  env: process.env,
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  tty: Boolean(process.stderr.isTTY),
};
