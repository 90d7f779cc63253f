/**
 * Finding a Python with PyTorch for the torch engine: CODI_PYTHON when set (and only it), else
 * `python3` on PATH, else Debian's /usr/bin/python3. A candidate qualifies when it imports torch
 * ≥ 1.13. Every failure is a one-line reason, never a traceback.
 */
import { spawnSync } from 'node:child_process';

export const MIN_TORCH: [number, number] = [1, 13];

export interface PythonFound {
  python: string;
  torch: string;
}

export type PythonProbe = { ok: true; found: PythonFound } | { ok: false; reason: string };

/** "1.13.0a0+git…" → [1, 13]; null when unreadable. */
export function torchVersion(v: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function probeOne(python: string): PythonProbe {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, reason: `${python}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}` };
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').at(-1) ?? '';
    return { ok: false, reason: `${python}: ${/No module named .?torch/.test(last) ? 'has no torch module' : `failed (${last || `exit ${r.status}`})`}` };
  }
  const version = r.stdout.trim().split('\n').at(-1) ?? '';
  const v = torchVersion(version);
  if (!v) return { ok: false, reason: `${python}: unreadable torch version "${version}"` };
  if (v[0] < MIN_TORCH[0] || (v[0] === MIN_TORCH[0] && v[1] < MIN_TORCH[1])) return { ok: false, reason: `${python}: torch ${version} is older than ${MIN_TORCH.join('.')}` };
  return { ok: true, found: { python, torch: version } };
}

/** The first Python with torch ≥ 1.13, or why none qualifies. */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): PythonProbe {
  const explicit = env.CODI_PYTHON?.trim();
  if (explicit) {
    const r = probeOne(explicit);
    return r.ok ? r : { ok: false, reason: `CODI_PYTHON=${r.reason}` };
  }
  const reasons: string[] = [];
  for (const cand of ['python3', '/usr/bin/python3']) {
    const r = probeOne(cand);
    if (r.ok) return r;
    reasons.push(r.reason);
  }
  return { ok: false, reason: reasons.join('; ') };
}
