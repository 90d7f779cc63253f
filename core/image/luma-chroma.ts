/**
 * RGB ↔ (Y, B − Y, R − Y): Rec. 709 luma and two colour differences, linear and exactly invertible.
 * Grey is (Y, 0, 0), so "no colour" is a zero plane in this space, whatever the brightness.
 */
import type { F32Tensor } from '../tensor/ops.ts';

const KR = 0.2126;
const KB = 0.0722;
const KG = 1 - KR - KB;

function planes(x: F32Tensor): { H: number; W: number; n: number } {
  const [, C, H, W] = x.shape as [number, number, number, number];
  if (C !== 3) throw new RangeError(`luma/chroma needs 3 channels, got ${C}`);
  return { H, W, n: H * W };
}

export function toLumaChroma(x: F32Tensor): F32Tensor {
  const { H, W, n } = planes(x);
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const r = x.data[i] as number;
    const g = x.data[n + i] as number;
    const b = x.data[2 * n + i] as number;
    const y = KR * r + KG * g + KB * b;
    out[i] = y;
    out[n + i] = b - y;
    out[2 * n + i] = r - y;
  }
  return { data: out, shape: [1, 3, H, W] };
}

export function fromLumaChroma(x: F32Tensor): F32Tensor {
  const { H, W, n } = planes(x);
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const y = x.data[i] as number;
    const b = y + (x.data[n + i] as number);
    const r = y + (x.data[2 * n + i] as number);
    out[i] = r;
    out[n + i] = (y - KR * r - KB * b) / KG;
    out[2 * n + i] = b;
  }
  return { data: out, shape: [1, 3, H, W] };
}
