/**
 * The Hub token and address: the token is kept in the keychain (ciphertext only) or in memory,
 * never in the settings file and never in what the renderer is told; HF_TOKEN / HF_ENDPOINT apply
 * when the app sets none.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubConfig, keychainVault, PUBLIC_HUB, redactToken, sessionVault } from './hub-settings.ts';
import type { SafeStorageLike } from './hub-settings.ts';

const TOKEN = 'hf_SeCrEt0123456789';

/** A keychain double: "encrypts" by reversing and tagging, so a plain token never matches its bytes. */
const keychain = (available: boolean): SafeStorageLike => ({
  isEncryptionAvailable: () => available,
  encryptString: (plain) => Buffer.from(`enc:${[...plain].reverse().join('')}`),
  decryptString: (enc) => {
    const s = enc.toString();
    if (!s.startsWith('enc:')) throw new Error('not ours');
    return [...s.slice(4)].reverse().join('');
  },
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'codi-hub-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every byte written under the folder, as text. */
async function everythingWritten(): Promise<string> {
  const out: string[] = [];
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) if (f.isFile()) out.push(await readFile(path.join(f.parentPath, f.name), 'latin1'));
  return out.join('\n');
}

describe('HubConfig', () => {
  it('keeps a token set in the app in the keychain as ciphertext only, across restarts, and never tells it back', async () => {
    const file = path.join(dir, 'hub-token.bin');
    const settingsFile = path.join(dir, 'hub-settings.json');
    const a = new HubConfig({ vault: keychainVault(keychain(true), file), settingsFile, env: {} });
    const shown = await a.update({ token: TOKEN, endpoint: 'http://127.0.0.1:4321/' });
    expect(shown).toEqual({ endpoint: 'http://127.0.0.1:4321', endpointSource: 'settings', token: { set: true, source: 'settings' }, tokenStorage: 'keychain' });
    expect(JSON.stringify(shown)).not.toContain(TOKEN);
    expect(await everythingWritten()).not.toContain(TOKEN);
    // a new app start reads it back through the keychain
    const b = new HubConfig({ vault: keychainVault(keychain(true), file), settingsFile, env: {} });
    expect((await b.token())?.value).toBe(TOKEN);
    expect((await b.endpoint()).url).toBe('http://127.0.0.1:4321');
    await b.update({ token: null });
    expect(await b.token()).toBeNull();
    expect((await readdir(dir)).sort()).toEqual(['hub-settings.json']);
  });

  it('without keychain encryption keeps the token in memory only and says so', async () => {
    const file = path.join(dir, 'hub-token.bin');
    // Linux without a secret service: "available", but with a hard-coded key
    expect(keychainVault({ ...keychain(true), getSelectedStorageBackend: () => 'basic_text' }, file).kind).toBe('session');
    expect(keychainVault({ ...keychain(true), getSelectedStorageBackend: () => 'gnome_libsecret' }, file).kind).toBe('keychain');
    const vault = keychainVault(keychain(false), file);
    expect(vault.kind).toBe('session');
    const c = new HubConfig({ vault, settingsFile: path.join(dir, 'hub-settings.json'), env: {} });
    expect((await c.update({ token: TOKEN })).tokenStorage).toBe('session');
    expect((await c.token())?.value).toBe(TOKEN);
    expect(await readdir(dir)).toEqual([]);
  });

  it('falls back to HF_TOKEN and HF_ENDPOINT, and the app setting wins over both', async () => {
    const env = { HF_TOKEN: 'hf_fromEnv000', HF_ENDPOINT: 'http://mirror.example:8080' };
    const c = new HubConfig({ vault: sessionVault(), settingsFile: null, env });
    expect(await c.describe()).toEqual({ endpoint: 'http://mirror.example:8080', endpointSource: 'env', token: { set: true, source: 'env' }, tokenStorage: 'session' });
    await c.update({ token: TOKEN, endpoint: 'https://hub.example' });
    expect(await c.token()).toEqual({ value: TOKEN, source: 'settings' });
    expect((await c.endpoint()).source).toBe('settings');
    await c.update({ token: null, endpoint: null });
    expect((await c.token())?.source).toBe('env');
    const bare = new HubConfig({ vault: sessionVault(), settingsFile: null, env: {} });
    expect(await bare.describe()).toMatchObject({ endpoint: PUBLIC_HUB, endpointSource: 'default', token: { set: false, source: null } });
  });

  it('redacts the token from any message', () => {
    expect(redactToken(`401 for Bearer ${TOKEN} (${TOKEN})`, TOKEN)).toBe('401 for Bearer [token] ([token])');
    expect(redactToken('no secret here', undefined)).toBe('no secret here');
  });
});
