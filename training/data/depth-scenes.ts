/**
 * (depth map, image) pairs with exact depth, from a small ray caster: a textured ground plane and
 * back wall plus 2–6 textured spheres and boxes (rotated about the vertical axis) standing on the
 * ground, Lambert shading with one sun and hard shadows, and exponential fog by distance.
 * Textures are crops of the training photographs, so the colours and textures are real while the
 * geometry is known exactly.
 *
 * Depth convention (CONVENTIONS.md: near = 1 … far = −1): the renderer keeps the exact camera-space
 * z of each pixel-centre ray (`z`), and the model target is the per-image normalised inverse depth
 * (disparity) d = 1/z mapped linearly so the nearest pixel is 1 and the farthest −1, the relative
 * depth form of MiDaS-style depth maps.
 *
 * Limits: only planes, spheres and boxes (no thin structures, people or foliage geometry); textures
 * are mirrored-tiled projections, so their scale does not match real objects; no reflections,
 * soft shadows or interreflections; textures are not filtered (distant ground can alias); only
 * silhouette pixels are 2×2 supersampled while depth is the exact value at the pixel centre.
 */
import type { Rng } from '../../core/rng.ts';
import { createImage } from './image.ts';
import type { PlanarImage } from './image.ts';

type Vec3 = [number, number, number];

/** A texture reference: which crop, and world units per texture width. */
export interface Surface {
  texture: number;
  tileSize: number;
  /** multiplies the texture colour (object tint) */
  tint: Vec3;
}

export type SceneObject =
  | { kind: 'plane'; point: Vec3; normal: Vec3; uAxis: Vec3; vAxis: Vec3; surface: Surface }
  | { kind: 'sphere'; centre: Vec3; radius: number; surface: Surface }
  | { kind: 'box'; centre: Vec3; half: Vec3; yaw: number; surface: Surface };

/** Everything needed to render one scene; camera at the origin looking along +z, y up. */
export interface Scene {
  fovY: number;
  objects: SceneObject[];
  /** unit vector towards the sun */
  sun: Vec3;
  ambient: number;
  fogColour: Vec3;
  fogDensity: number;
  /** colour and z of rays that hit nothing */
  sky: Vec3;
  farZ: number;
}

/** Render output: RGB image in [0, 1], exact z per pixel centre, and the normalised depth map. */
export interface DepthRender {
  image: PlanarImage;
  z: Float32Array;
  /** one channel, near = 1 … far = −1 */
  depth: PlanarImage;
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const norm = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / l, a[1] / l, a[2] / l];
};

interface Hit {
  t: number;
  object: number;
  normal: Vec3;
  u: number;
  v: number;
  surface: Surface;
}

function intersect(o: Vec3, d: Vec3, obj: SceneObject, tMax: number): Hit | null {
  if (obj.kind === 'plane') {
    const den = dot(d, obj.normal);
    if (Math.abs(den) < 1e-9) return null;
    const t = (dot(obj.point, obj.normal) - dot(o, obj.normal)) / den;
    if (t <= 1e-6 || t >= tMax) return null;
    const p: Vec3 = [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]];
    return { object: -1, t, normal: obj.normal, u: dot(p, obj.uAxis) / obj.surface.tileSize, v: dot(p, obj.vAxis) / obj.surface.tileSize, surface: obj.surface };
  }
  if (obj.kind === 'sphere') {
    const oc: Vec3 = [o[0] - obj.centre[0], o[1] - obj.centre[1], o[2] - obj.centre[2]];
    const b = dot(oc, d);
    const c = dot(oc, oc) - obj.radius * obj.radius;
    const disc = b * b - c;
    if (disc < 0) return null;
    const s = Math.sqrt(disc);
    let t = -b - s;
    if (t <= 1e-6) t = -b + s;
    if (t <= 1e-6 || t >= tMax) return null;
    const n: Vec3 = [(oc[0] + t * d[0]) / obj.radius, (oc[1] + t * d[1]) / obj.radius, (oc[2] + t * d[2]) / obj.radius];
    const circumference = 2 * Math.PI * obj.radius;
    const u = ((Math.atan2(n[0], n[2]) / (2 * Math.PI)) * circumference) / obj.surface.tileSize;
    const v = ((Math.acos(Math.max(-1, Math.min(1, n[1]))) / Math.PI) * (circumference / 2)) / obj.surface.tileSize;
    return { object: -1, t, normal: n, u, v, surface: obj.surface };
  }
  // box: transform the ray into the box frame (rotation about y by −yaw), slab test
  const c = Math.cos(obj.yaw);
  const s = Math.sin(obj.yaw);
  const toLocal = (x: Vec3): Vec3 => [c * x[0] - s * x[2], x[1], s * x[0] + c * x[2]];
  const lo = toLocal([o[0] - obj.centre[0], o[1] - obj.centre[1], o[2] - obj.centre[2]]);
  const ld = toLocal(d);
  let tNear = -Infinity;
  let tFar = Infinity;
  let axis = 0;
  let sign = 1;
  for (let k = 0; k < 3; k++) {
    const dk = ld[k] as number;
    const ok = lo[k] as number;
    const hk = obj.half[k] as number;
    if (Math.abs(dk) < 1e-12) {
      if (ok < -hk || ok > hk) return null;
      continue;
    }
    let t1 = (-hk - ok) / dk;
    let t2 = (hk - ok) / dk;
    let sg = -1;
    if (t1 > t2) {
      [t1, t2] = [t2, t1];
      sg = 1;
    }
    if (t1 > tNear) {
      tNear = t1;
      axis = k;
      sign = sg;
    }
    tFar = Math.min(tFar, t2);
  }
  if (tNear > tFar || tNear <= 1e-6 || tNear >= tMax) return null;
  const ln: Vec3 = [0, 0, 0];
  ln[axis] = sign;
  // back to world: rotation by +yaw
  const normal: Vec3 = [c * ln[0] + s * ln[2], ln[1], -s * ln[0] + c * ln[2]];
  const lp: Vec3 = [lo[0] + tNear * ld[0], lo[1] + tNear * ld[1], lo[2] + tNear * ld[2]];
  const a1 = axis === 0 ? 2 : 0;
  const a2 = axis === 1 ? 2 : 1;
  return { object: -1, t: tNear, normal, u: lp[a1] / obj.surface.tileSize, v: lp[a2] / obj.surface.tileSize, surface: obj.surface };
}

function nearestHit(o: Vec3, d: Vec3, objects: readonly SceneObject[], tMax: number): Hit | null {
  let best: Hit | null = null;
  let limit = tMax;
  for (let k = 0; k < objects.length; k++) {
    const h = intersect(o, d, objects[k] as SceneObject, limit);
    if (h) {
      best = h;
      best.object = k;
      limit = h.t;
    }
  }
  return best;
}

/** Bilinear texture lookup with mirrored tiling (no seams between tiles). */
function sampleTexture(tex: PlanarImage, u: number, v: number, out: Vec3): void {
  const mirror = (x: number): number => {
    const m = ((x % 2) + 2) % 2;
    return m > 1 ? 2 - m : m;
  };
  const fx = mirror(u) * (tex.width - 1);
  const fy = mirror(v) * (tex.height - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(tex.width - 1, x0 + 1);
  const y1 = Math.min(tex.height - 1, y0 + 1);
  const ax = fx - x0;
  const ay = fy - y0;
  const n = tex.width * tex.height;
  for (let c = 0; c < 3; c++) {
    const base = c * n;
    const top = (tex.data[base + y0 * tex.width + x0] as number) * (1 - ax) + (tex.data[base + y0 * tex.width + x1] as number) * ax;
    const bot = (tex.data[base + y1 * tex.width + x0] as number) * (1 - ax) + (tex.data[base + y1 * tex.width + x1] as number) * ax;
    out[c] = top * (1 - ay) + bot * ay;
  }
}

/** Trace one camera ray: colour into `rgb`, returns camera-space z (farZ when nothing is hit);
 * `hitObject[0]` receives the index of the object hit (−1 for the sky). */
function trace(scene: Scene, textures: readonly PlanarImage[], d: Vec3, rgb: Vec3, hitObject: Int32Array): number {
  const origin: Vec3 = [0, 0, 0];
  const tMax = scene.farZ / Math.max(d[2], 1e-6);
  const hit = nearestHit(origin, d, scene.objects, tMax);
  hitObject[0] = hit ? hit.object : -1;
  if (!hit) {
    rgb[0] = scene.sky[0];
    rgb[1] = scene.sky[1];
    rgb[2] = scene.sky[2];
    return scene.farZ;
  }
  const tex = textures[hit.surface.texture] as PlanarImage;
  sampleTexture(tex, hit.u, hit.v, rgb);
  // face the normal towards the camera (planes and back faces)
  let n = hit.normal;
  if (dot(n, d) > 0) n = [-n[0], -n[1], -n[2]];
  const p: Vec3 = [hit.t * d[0], hit.t * d[1], hit.t * d[2]];
  let diffuse = Math.max(0, dot(n, scene.sun));
  if (diffuse > 0) {
    const start: Vec3 = [p[0] + 1e-4 * n[0], p[1] + 1e-4 * n[1], p[2] + 1e-4 * n[2]];
    if (nearestHit(start, scene.sun, scene.objects, 1e3)) diffuse = 0;
  }
  const shade = scene.ambient + (1 - scene.ambient) * diffuse;
  const z = hit.t * d[2];
  const fog = 1 - Math.exp(-scene.fogDensity * hit.t);
  for (let c = 0; c < 3; c++) {
    const lit = (rgb[c] as number) * (hit.surface.tint[c] as number) * shade;
    rgb[c] = lit + fog * ((scene.fogColour[c] as number) - lit);
  }
  return z;
}

/** Map exact z to the normalised inverse depth (nearest 1, farthest −1). */
export function normaliseDepth(z: Float32Array): Float32Array {
  let dMin = Infinity;
  let dMax = -Infinity;
  for (const v of z) {
    const d = 1 / v;
    if (d < dMin) dMin = d;
    if (d > dMax) dMax = d;
  }
  const out = new Float32Array(z.length);
  const span = dMax - dMin;
  for (let i = 0; i < z.length; i++) out[i] = span > 0 ? (2 * (1 / (z[i] as number) - dMin)) / span - 1 : 0;
  return out;
}

/**
 * Render a scene at width × height. Every pixel-centre ray gives the exact z and a colour; pixels
 * whose hit object differs from a 4-neighbour's (silhouettes) are re-rendered with `ss` × `ss`
 * supersampling, which is where aliasing shows.
 */
export function renderScene(scene: Scene, textures: readonly PlanarImage[], width: number, height: number, ss = 2): DepthRender {
  const f = height / 2 / Math.tan(scene.fovY / 2);
  const image = createImage(width, height, 3);
  const z = new Float32Array(width * height);
  const ids = new Int32Array(width * height);
  const n = width * height;
  const rgb: Vec3 = [0, 0, 0];
  const hitObject = new Int32Array(1);
  const ray = (px: number, py: number): Vec3 => norm([(px - width / 2) / f, -(py - height / 2) / f, 1]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      z[i] = trace(scene, textures, ray(x + 0.5, y + 0.5), rgb, hitObject);
      ids[i] = hitObject[0] as number;
      image.data[i] = rgb[0];
      image.data[n + i] = rgb[1];
      image.data[2 * n + i] = rgb[2];
    }
  }
  if (ss > 1) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const id = ids[i];
        const edge = (x > 0 && ids[i - 1] !== id) || (x + 1 < width && ids[i + 1] !== id) || (y > 0 && ids[i - width] !== id) || (y + 1 < height && ids[i + width] !== id);
        if (!edge) continue;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let sy = 0; sy < ss; sy++) {
          for (let sx = 0; sx < ss; sx++) {
            trace(scene, textures, ray(x + (sx + 0.5) / ss, y + (sy + 0.5) / ss), rgb, hitObject);
            r += rgb[0];
            g += rgb[1];
            b += rgb[2];
          }
        }
        const k = 1 / (ss * ss);
        image.data[i] = r * k;
        image.data[n + i] = g * k;
        image.data[2 * n + i] = b * k;
      }
    }
  }
  for (let i = 0; i < image.data.length; i++) image.data[i] = Math.min(1, Math.max(0, image.data[i] as number));
  const depth = createImage(width, height, 1);
  depth.data.set(normaliseDepth(z));
  return { image, z, depth };
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** Draw a random scene that uses textures 0 … textureCount − 1. */
export function sampleScene(rng: Rng, textureCount: number): Scene {
  if (textureCount < 1) throw new RangeError('need at least one texture');
  const surface = (tileLo: number, tileHi: number): Surface => {
    const tintAmount = uniform(rng, 0, 0.3);
    return {
      texture: rng.int(0, textureCount),
      tileSize: uniform(rng, tileLo, tileHi),
      tint: [1 - tintAmount * rng.uniform(), 1 - tintAmount * rng.uniform(), 1 - tintAmount * rng.uniform()],
    };
  };
  const camHeight = uniform(rng, 0.8, 2.2);
  const farZ = uniform(rng, 14, 30);
  const hasWall = rng.uniform() < 0.7; // else no back wall: the sky is the far plane
  const objects: SceneObject[] = [
    { kind: 'plane', point: [0, -camHeight, 0], normal: [0, 1, 0], uAxis: [1, 0, 0], vAxis: [0, 0, 1], surface: surface(1.5, 5) },
  ];
  if (hasWall) {
    objects.push({ kind: 'plane', point: [0, 0, farZ * uniform(rng, 0.6, 0.95)], normal: [0, 0, -1], uAxis: [1, 0, 0], vAxis: [0, -1, 0], surface: surface(3, 10) });
  }
  const count = rng.int(2, 7);
  for (let k = 0; k < count; k++) {
    const zc = uniform(rng, 2.5, farZ * 0.55);
    const xc = uniform(rng, -0.6, 0.6) * zc * 0.8;
    if (rng.uniform() < 0.5) {
      const r = uniform(rng, 0.3, 1.6);
      objects.push({ kind: 'sphere', centre: [xc, -camHeight + r, zc], radius: r, surface: surface(0.5, 2) });
    } else {
      const half: Vec3 = [uniform(rng, 0.3, 1.5), uniform(rng, 0.3, 1.8), uniform(rng, 0.3, 1.5)];
      objects.push({ kind: 'box', centre: [xc, -camHeight + half[1], zc], half, yaw: uniform(rng, 0, Math.PI), surface: surface(0.5, 2) });
    }
  }
  const elevation = uniform(rng, 0.3, 1.2);
  const azimuth = uniform(rng, -Math.PI, Math.PI);
  const fogGrey = uniform(rng, 0.55, 0.9);
  const skyTop = uniform(rng, 0.5, 0.95);
  return {
    fovY: uniform(rng, (45 * Math.PI) / 180, (70 * Math.PI) / 180),
    objects,
    sun: norm([Math.cos(elevation) * Math.sin(azimuth), Math.sin(elevation), Math.cos(elevation) * Math.cos(azimuth)]),
    ambient: uniform(rng, 0.25, 0.5),
    fogColour: [fogGrey, fogGrey + 0.02, fogGrey + 0.05],
    fogDensity: rng.uniform() < 0.3 ? 0 : uniform(rng, 0.005, 0.08),
    sky: [skyTop * 0.75, skyTop * 0.85, Math.min(1, skyTop * 1.05)],
    farZ,
  };
}
