/** Where packs live and how the engine is configured, shared by web mode and the CLI. */
import os from 'node:os';
import path from 'node:path';
import { parseProviderList } from '../engine/providers.ts';
import type { EngineConfig } from '../engine/protocol.ts';
import { REPO_ROOT } from './fork.ts';

/** The user's own packs (personal adapters): CODI_USER_PACKS, else ~/.codi-studio/packs. */
export function userPacksDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CODI_USER_PACKS || path.join(os.homedir(), '.codi-studio', 'packs');
}

/** Engine config from the environment: CODI_PACKS (bundled dir), CODI_USER_PACKS, CODI_EP, CODI_THREADS. */
export function engineConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const threads = Number(env.CODI_THREADS);
  const providers = parseProviderList(env.CODI_EP);
  return {
    packDirs: [
      { path: env.CODI_PACKS || path.join(REPO_ROOT, 'native-models'), source: 'bundled' },
      { path: userPacksDir(env), source: 'user' },
    ],
    ...(providers ? { providers } : {}),
    ...(Number.isInteger(threads) && threads > 0 ? { threads } : {}),
  };
}
