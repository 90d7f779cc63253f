import { describe, expect, it } from 'vitest';
import { hubBase, noProxyMatches, proxyRoutes } from './http.ts';

describe('noProxyMatches', () => {
  const u = (s: string) => new URL(s);
  it('reads NO_PROXY as curl does: hosts and their subdomains, leading dots, *, ports', () => {
    expect(noProxyMatches(undefined, u('https://huggingface.co/x'))).toBe(false);
    expect(noProxyMatches('huggingface.co', u('https://huggingface.co/x'))).toBe(true);
    expect(noProxyMatches('huggingface.co', u('https://cdn-lfs.huggingface.co/x'))).toBe(true);
    expect(noProxyMatches('.hf.co', u('https://cas-bridge.xethub.hf.co/x'))).toBe(true);
    expect(noProxyMatches('*.hf.co', u('https://hf.co/x'))).toBe(true);
    expect(noProxyMatches('face.co', u('https://huggingface.co/x'))).toBe(false);
    expect(noProxyMatches('localhost, 127.0.0.1:8080', u('http://127.0.0.1:8080/'))).toBe(true);
    expect(noProxyMatches('127.0.0.1:8080', u('http://127.0.0.1:9090/'))).toBe(false);
    expect(noProxyMatches('mirror.example:443', u('https://mirror.example/'))).toBe(true);
    expect(noProxyMatches('[::1]', u('http://[::1]:3000/'))).toBe(true);
    expect(noProxyMatches('*', u('https://anything.example/'))).toBe(true);
  });

  it('routes each URL to the proxy of its scheme unless NO_PROXY exempts it', async () => {
    const r = proxyRoutes({ https_proxy: 'http://proxy.local:3128', NO_PROXY: 'internal.example' });
    const viaProxy = r.dispatcherFor(new URL('https://huggingface.co/'));
    const direct = r.dispatcherFor(new URL('https://internal.example/'));
    expect(viaProxy).not.toBe(direct);
    expect(r.dispatcherFor(new URL('http://huggingface.co/'))).toBe(direct);
    expect(r.dispatcherFor(new URL('https://cdn.example/'))).toBe(viaProxy);
    await r.close();
    expect(() => proxyRoutes({ HTTPS_PROXY: 'not a url' }).dispatcherFor(new URL('https://huggingface.co/'))).toThrow(/HTTPS_PROXY setting is not a valid URL/);
  });
});

describe('hubBase', () => {
  it('takes the option, else HF_ENDPOINT, else the public Hub; refuses credentials and other schemes', () => {
    expect(hubBase({ env: {} }).href).toBe('https://huggingface.co/');
    expect(hubBase({ env: { HF_ENDPOINT: 'https://hf-mirror.example/hub' } }).href).toBe('https://hf-mirror.example/hub');
    expect(hubBase({ baseUrl: 'http://127.0.0.1:9', env: { HF_ENDPOINT: 'https://x.example' } }).href).toBe('http://127.0.0.1:9/');
    expect(() => hubBase({ baseUrl: 'https://user:secret@mirror.example' })).toThrow(/must not contain a user name or password/);
    expect(() => hubBase({ baseUrl: 'file:///etc' })).toThrow(/must be http\(s\)/);
  });
});
