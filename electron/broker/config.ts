/** Where packs live and how the engine is configured, shared by web mode and the CLI. */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProviderList } from '../engine/providers.ts';
import type { EngineConfig } from '../engine/protocol.ts';
import { REPO_ROOT } from './fork.ts';

/**
 * Absolute folder a new file defaults to when the image's own folder is unknown (opened from
 * bytes: web upload, drop, paste): CODI_SAVE_DIR, else ~/Pictures when it exists, else home.
 * Never a relative name: the web server would resolve it against its own working folder.
 */
export function defaultSaveFolder(env: NodeJS.ProcessEnv = process.env): string {
  const set = env.CODI_SAVE_DIR;
  if (set && path.isAbsolute(set)) return set;
  const pictures = path.join(os.homedir(), 'Pictures');
  try {
    if (statSync(pictures).isDirectory()) return pictures;
  } catch {
    // No Pictures folder: home it is.
  }
  return os.homedir();
}

/** The user's own packs (personal adapters): CODI_USER_PACKS, else ~/.codi-studio/packs. */
export function userPacksDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CODI_USER_PACKS || path.join(os.homedir(), '.codi-studio', 'packs');
}

/** The bundled packs: CODI_PACKS, else the repository's native-models. */
export function bundledPacksDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CODI_PACKS || path.join(REPO_ROOT, 'native-models');
}

/** The model manager's folders from the environment: user packs, bundled packs, and the Hub settings file under CODI_USER_DATA. */
export function modelsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): { userPacksDir: string; bundledPacksDir: string; settingsFile: string } {
  return {
    userPacksDir: userPacksDir(env),
    bundledPacksDir: bundledPacksDir(env),
    settingsFile: path.join(env.CODI_USER_DATA || path.join(os.homedir(), '.codi-studio'), 'hub-settings.json'),
  };
}

/** Engine config from the environment: CODI_PACKS (bundled dir), CODI_USER_PACKS, CODI_EP, CODI_THREADS. */
export function engineConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const threads = Number(env.CODI_THREADS);
  const providers = parseProviderList(env.CODI_EP);
  return {
    packDirs: [
      { path: bundledPacksDir(env), source: 'bundled' },
      { path: userPacksDir(env), source: 'user' },
    ],
    ...(providers ? { providers } : {}),
    ...(Number.isInteger(threads) && threads > 0 ? { threads } : {}),
  };
}
