/**
 * Fréchet distance between Gaussian fits of two feature sets, and the small symmetric
 * eigen-solver it needs.
 *
 * d² = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr (Σ₁ Σ₂)^{1/2}.
 * The matrix square root is written by hand (cyclic Jacobi on symmetric matrices) because nothing
 * in the repo provides one: TensorFlow.js has no eigen-decomposition or sqrtm, and pulling a
 * linear-algebra package in for one trace would be a dependency for ~60 lines.
 *
 * With n ≪ d samples (tens of photos, 2048 features) Σ has rank < n, and the trace term needs no
 * d × d matrix at all: with Aᵢ = centred features / √(nᵢ − 1) (nᵢ × d), Σᵢ = AᵢᵀAᵢ and the non-zero
 * eigenvalues of Σ₁Σ₂ = A₁ᵀ(A₁A₂ᵀA₂) equal those of A₁A₂ᵀA₂A₁ᵀ = KᵀK with K = A₂A₁ᵀ (n₂ × n₁).
 * So Tr (Σ₁Σ₂)^{1/2} = Σ √eig(KᵀK), the nuclear norm of K: exact, from an n₁ × n₁ eigenproblem.
 */

/** Eigenvalues of a symmetric matrix (row-major n × n), by cyclic Jacobi rotations. */
export function symmetricEigenvalues(matrix: Float64Array, n: number, tol = 1e-12, maxSweeps = 100): Float64Array {
  if (matrix.length !== n * n) throw new RangeError(`expected ${n * n} values, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  let scale = 0;
  for (const v of a) scale = Math.max(scale, Math.abs(v));
  if (scale === 0) return new Float64Array(n);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (Math.sqrt(off) <= tol * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) <= 1e-300) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        // rotation angle that zeroes a[p][q] (Golub & Van Loan, symmetric Schur decomposition)
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i * n + i] as number;
  return out;
}

/** Mean vector and centred, 1/√(n−1)-scaled rows of a feature set (n rows of length d). */
function centre(rows: readonly Float32Array[]): { mean: Float64Array; scaled: Float64Array[] } {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  for (const r of rows) {
    if (r.length !== d) throw new RangeError('feature vectors differ in length');
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number) / n;
  }
  const f = 1 / Math.sqrt(n - 1);
  const scaled = rows.map((r) => {
    const c = new Float64Array(d);
    for (let j = 0; j < d; j++) c[j] = ((r[j] as number) - (mean[j] as number)) * f;
    return c;
  });
  return { mean, scaled };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Fréchet distance (the squared form d², as FID reports it) between Gaussian fits of two sets of ≥ 2 vectors. */
export function frechetDistance(set1: readonly Float32Array[], set2: readonly Float32Array[]): number {
  if (set1.length < 2 || set2.length < 2) throw new RangeError('each feature set needs at least 2 vectors');
  const a = centre(set1);
  const b = centre(set2);
  if (a.mean.length !== b.mean.length) throw new RangeError('feature sets differ in dimension');
  let meanTerm = 0;
  for (let j = 0; j < a.mean.length; j++) meanTerm += ((a.mean[j] as number) - (b.mean[j] as number)) ** 2;
  const tr1 = a.scaled.reduce((s, r) => s + dot(r, r), 0);
  const tr2 = b.scaled.reduce((s, r) => s + dot(r, r), 0);
  // K = A₂A₁ᵀ (n₂ × n₁); KᵀK (n₁ × n₁) is symmetric PSD
  const n1 = a.scaled.length;
  const n2 = b.scaled.length;
  const k = new Float64Array(n2 * n1);
  for (let i = 0; i < n2; i++) for (let j = 0; j < n1; j++) k[i * n1 + j] = dot(b.scaled[i] as Float64Array, a.scaled[j] as Float64Array);
  const ktk = new Float64Array(n1 * n1);
  for (let p = 0; p < n1; p++) {
    for (let q = p; q < n1; q++) {
      let s = 0;
      for (let i = 0; i < n2; i++) s += (k[i * n1 + p] as number) * (k[i * n1 + q] as number);
      ktk[p * n1 + q] = s;
      ktk[q * n1 + p] = s;
    }
  }
  let trSqrt = 0;
  for (const ev of symmetricEigenvalues(ktk, n1)) trSqrt += Math.sqrt(Math.max(0, ev));
  return Math.max(0, meanTerm + tr1 + tr2 - 2 * trSqrt);
}

/** Mean Euclidean distance between paired feature vectors (output i vs reference i). */
export function meanPairedL2(set1: readonly Float32Array[], set2: readonly Float32Array[]): number {
  if (set1.length !== set2.length || set1.length === 0) throw new RangeError('paired distance needs two non-empty sets of equal size');
  let total = 0;
  for (let i = 0; i < set1.length; i++) {
    const x = set1[i] as Float32Array;
    const y = set2[i] as Float32Array;
    if (x.length !== y.length) throw new RangeError('feature vectors differ in length');
    let s = 0;
    for (let j = 0; j < x.length; j++) s += ((x[j] as number) - (y[j] as number)) ** 2;
    total += Math.sqrt(s);
  }
  return total / set1.length;
}
