// sharp exposes the ICC profile only as bytes; the profile's name (shown to the user: "converted
// from Display P3") and its colour space are read here from the ICC header and 'desc' tag
// (ICC.1:2010 §7.2, §9.2.41 and the v2 textDescriptionType).

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function sig(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

/** Data colour space of a profile from its header: 'RGB', 'CMYK', 'GRAY', … or undefined if malformed. */
export function iccColourSpace(icc: Uint8Array): string | undefined {
  if (icc.length < 128 || sig(icc, 36) !== 'acsp') return undefined;
  return sig(icc, 16).trim();
}

/** The profile description ('desc' tag), e.g. "sRGB IEC61966-2.1" or "Display P3". */
export function iccDescription(icc: Uint8Array): string | undefined {
  if (icc.length < 132 || sig(icc, 36) !== 'acsp') return undefined;
  const count = u32(icc, 128);
  for (let i = 0; i < count && 132 + 12 * (i + 1) <= icc.length; i++) {
    const entry = 132 + 12 * i;
    if (sig(icc, entry) !== 'desc') continue;
    const offset = u32(icc, entry + 4);
    const size = u32(icc, entry + 8);
    if (offset + size > icc.length || size < 12) return undefined;
    const type = sig(icc, offset);
    if (type === 'desc') {
      const n = u32(icc, offset + 8);
      if (n === 0 || offset + 12 + n > offset + size) return undefined;
      let s = '';
      for (let k = 0; k < n; k++) {
        const c = icc[offset + 12 + k]!;
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      return s.trim() || undefined;
    }
    if (type === 'mluc') {
      const records = u32(icc, offset + 8);
      if (records === 0 || size < 28) return undefined;
      // First record is as good as any: the UI shows one name.
      const len = u32(icc, offset + 20);
      const at = offset + u32(icc, offset + 24);
      if (at + len > offset + size) return undefined;
      let s = '';
      for (let k = 0; k + 1 < len; k += 2) {
        const c = (icc[at + k]! << 8) | icc[at + k + 1]!;
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      return s.trim() || undefined;
    }
    return undefined;
  }
  return undefined;
}

/** True for the usual sRGB profiles (camera and OS variants all describe themselves as "sRGB…"). */
export function isSrgbProfile(icc: Uint8Array): boolean {
  return /^sRGB\b/i.test(iccDescription(icc) ?? '');
}
