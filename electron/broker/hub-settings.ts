/**
 * The Hub's address and the user's access token, as the model manager uses them.
 *
 * The token is a secret: a token set in the app goes to the OS keychain (Electron's safeStorage)
 * where one is available, else it lives in the broker's memory for the session only; HF_TOKEN
 * applies when none is set in the app. It is handed to the Hub client and nowhere else: never
 * to the renderer (the settings say only whether one is set and from where), never into the
 * settings file, logs or messages (see {@link redactToken}).
 *
 * The address (a mirror, or the tests' mock Hub) is a setting, else HF_ENDPOINT, else the
 * public Hub. Nothing here touches the network.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { HubSettings } from '../contract/schemas.ts';

export const PUBLIC_HUB = 'https://huggingface.co';

/** Where a token set in the app is kept. */
export interface TokenVault {
  readonly kind: 'keychain' | 'session';
  load(): Promise<string | null>;
  save(token: string): Promise<void>;
  clear(): Promise<void>;
}

/** The broker's memory: the token is gone when the app closes. */
export function sessionVault(): TokenVault {
  let token: string | null = null;
  return {
    kind: 'session',
    load: async () => token,
    save: async (t) => {
      token = t;
    },
    clear: async () => {
      token = null;
    },
  };
}

/** The slice of Electron's safeStorage the vault uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  /** Linux only: 'basic_text' = no secret service, the "encryption" is a hard-coded password. */
  getSelectedStorageBackend?(): string;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/**
 * The OS keychain through safeStorage: the file holds only the ciphertext, which the keychain's
 * key decrypts. Without encryption (e.g. Linux with no secret service, where safeStorage falls
 * back to a hard-coded key that protects nothing) a token is not written to disk at all: the
 * session vault is returned instead, and the UI says the token is not kept.
 */
export function keychainVault(safeStorage: SafeStorageLike, file: string): TokenVault {
  if (!safeStorage.isEncryptionAvailable() || safeStorage.getSelectedStorageBackend?.() === 'basic_text') return sessionVault();
  let cached: string | null | undefined;
  return {
    kind: 'keychain',
    async load() {
      if (cached !== undefined) return cached;
      try {
        cached = safeStorage.decryptString(await fs.readFile(file));
      } catch {
        cached = null; // none stored, or stored under another keychain key: as if unset
      }
      return cached;
    },
    async save(token) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await fs.writeFile(tmp, safeStorage.encryptString(token), { mode: 0o600 });
      await fs.rename(tmp, file);
      cached = token;
    },
    async clear() {
      await fs.rm(file, { force: true });
      cached = null;
    },
  };
}

/** Replace every occurrence of the token in a message (an error from a library may echo a header). */
export function redactToken(text: string, token: string | undefined): string {
  return token && token.length >= 4 ? text.split(token).join('[token]') : text;
}

export interface HubConfigOptions {
  vault: TokenVault;
  /** JSON file of the non-secret settings (the endpoint); null = not kept across restarts. */
  settingsFile: string | null;
  env?: NodeJS.ProcessEnv;
}

interface StoredSettings {
  endpoint?: string;
}

export class HubConfig {
  private stored: StoredSettings | null = null;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: HubConfigOptions) {
    this.env = opts.env ?? process.env;
  }

  private async settings(): Promise<StoredSettings> {
    if (this.stored) return this.stored;
    let s: StoredSettings = {};
    if (this.opts.settingsFile) {
      try {
        const raw = JSON.parse(await fs.readFile(this.opts.settingsFile, 'utf8')) as unknown;
        if (raw && typeof raw === 'object' && typeof (raw as StoredSettings).endpoint === 'string') s = { endpoint: (raw as StoredSettings).endpoint };
      } catch {
        // no settings yet (or unreadable): the defaults
      }
    }
    this.stored = s;
    return s;
  }

  /** The Hub's base URL and where it was set. */
  async endpoint(): Promise<{ url: string; source: HubSettings['endpointSource'] }> {
    const s = await this.settings();
    if (s.endpoint) return { url: s.endpoint, source: 'settings' };
    const env = this.env.HF_ENDPOINT?.trim();
    if (env) return { url: env, source: 'env' };
    return { url: PUBLIC_HUB, source: 'default' };
  }

  /** The token for Hub requests: the one set in the app, else HF_TOKEN. */
  async token(): Promise<{ value: string; source: 'settings' | 'env' } | null> {
    const set = await this.opts.vault.load();
    if (set) return { value: set, source: 'settings' };
    const env = this.env.HF_TOKEN?.trim();
    return env ? { value: env, source: 'env' } : null;
  }

  /** What the renderer may know: never the token itself. */
  async describe(): Promise<HubSettings> {
    const [endpoint, token] = await Promise.all([this.endpoint(), this.token()]);
    return { endpoint: endpoint.url, endpointSource: endpoint.source, token: { set: token !== null, source: token?.source ?? null }, tokenStorage: this.opts.vault.kind };
  }

  /** Apply a settings change (undefined = unchanged, null = cleared). */
  async update(change: { endpoint?: string | null | undefined; token?: string | null | undefined }): Promise<HubSettings> {
    if (change.token === null) await this.opts.vault.clear();
    else if (change.token !== undefined) await this.opts.vault.save(change.token);
    if (change.endpoint !== undefined) {
      const s = { ...(await this.settings()) };
      if (change.endpoint === null) delete s.endpoint;
      else s.endpoint = change.endpoint.replace(/\/+$/, '');
      this.stored = s;
      if (this.opts.settingsFile) {
        await fs.mkdir(path.dirname(this.opts.settingsFile), { recursive: true });
        const tmp = `${this.opts.settingsFile}.${randomBytes(6).toString('hex')}.tmp`;
        await fs.writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`);
        await fs.rename(tmp, this.opts.settingsFile);
      }
    }
    return this.describe();
  }
}
