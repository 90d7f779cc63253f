/**
 * Seeded deterministic PRNG: xoshiro128** (Blackman & Vigna), 32-bit state words so it is
 * exact in JS integer arithmetic, seeded through splitmix32. The full state (including the
 * cached second Box-Muller normal) is serialisable, so a resumed training run draws the
 * same stream as an uninterrupted one.
 */

/** Serialisable RNG state: four uint32 words plus the pending Gaussian (or null). */
export interface RngState {
  s: [number, number, number, number];
  spare: number | null;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 step: returns [output, nextState]. Used only to expand seeds. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /** Seed with any finite number (integers up to 2^53 keep all their bits) or a string. */
  constructor(seed: number | string = 0) {
    let h: number;
    if (typeof seed === 'string') {
      // FNV-1a over UTF-16 code units
      h = 0x811c9dc5;
      for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    } else {
      if (!Number.isFinite(seed)) throw new RangeError('Rng seed must be finite');
      const lo = seed >>> 0;
      const hi = Math.floor(Math.abs(seed) / TWO_POW_32) >>> 0;
      h = lo ^ Math.imul(hi, 0x9e3779b1) ^ (seed < 0 ? 0x5bd1e995 : 0);
    }
    let st = h | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitmix32(st);
      words.push(out);
      st = next;
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** Restore a generator from {@link Rng.getState}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare };
  }

  setState(state: RngState): void {
    const [a, b, c, d] = state.s;
    if ((a | b | c | d) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    this.s0 = a | 0;
    this.s1 = b | 0;
    this.s2 = c | 0;
    this.s3 = d | 0;
    this.spare = state.spare;
  }

  /** Next raw uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform integer in [lo, hi) (hi − lo ≤ 2^32), without modulo bias. */
  int(lo: number, hi: number): number {
    const range = hi - lo;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || range <= 0 || range > TWO_POW_32) {
      throw new RangeError(`int(${lo}, ${hi}): need integers with 0 < hi − lo ≤ 2^32`);
    }
    // reject the top partial bucket
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return lo + (x % range);
  }

  /** Standard normal (Box-Muller; the second value of each pair is cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    // 32-bit uniforms are plenty for Box-Muller (tails to ≈6.7σ) and halve the draws
    const u1 = (this.nextU32() + 1) / TWO_POW_32; // (0, 1]: log is finite
    const u2 = this.nextU32() / TWO_POW_32;
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Fill with uniform [0, 1) values of 24 bits (a 53-bit double could round up to 1 in float32). */
  fillUniform(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = (this.nextU32() >>> 8) / 16777216;
    return out;
  }

  /** Fill with N(mean, std²) values; consumes the stream exactly like repeated {@link Rng.normal}. */
  fillGaussian(out: Float32Array, mean = 0, std = 1): Float32Array {
    let i = 0;
    const n = out.length;
    if (n > 0 && this.spare !== null) {
      out[i++] = mean + std * this.spare;
      this.spare = null;
    }
    for (; i + 1 < n; i += 2) {
      const u1 = (this.nextU32() + 1) / TWO_POW_32;
      const u2 = this.nextU32() / TWO_POW_32;
      const r = Math.sqrt(-2 * Math.log(u1));
      const th = 2 * Math.PI * u2;
      out[i] = mean + std * r * Math.cos(th);
      out[i + 1] = mean + std * r * Math.sin(th);
    }
    if (i < n) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Advance the stream past `n` Gaussians exactly as {@link Rng.fillGaussian} of `n` values would,
   * drawing the uniforms without turning them into values (a third of the cost): a generator can
   * be positioned at a later part of a seeded field without making the part before it.
   */
  skipGaussians(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`skipGaussians: n must be a non-negative integer, got ${n}`);
    let left = n;
    if (left > 0 && this.spare !== null) {
      this.spare = null;
      left--;
    }
    for (let k = 0; k < 2 * Math.floor(left / 2); k++) this.nextU32();
    if (left % 2) this.normal();
    return this;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<E>(items: E[]): E[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = items[i] as E;
      items[i] = items[j] as E;
      items[j] = tmp;
    }
    return items;
  }
}
