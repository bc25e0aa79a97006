/**
 * The loops of einnet's wasm kernels (backends/wasm-kernels.ts) in JavaScript, over float32 views
 * of tfjs-wasm's heap: what runs where the engine has no WebAssembly SIMD (backends/wasm/simd.ts),
 * and the second implementation the tests hold the SIMD loops against. The cpu backend's max
 * pooling runs `maxPoolNaNLoop` too (backends/cpu-kernels.ts). Arithmetic that must match
 * tfjs' ops rounds every operation to float32 (`Math.fround` of the double result, the correctly
 * rounded float32 result for + − × ÷ and √) in the order of those ops.
 */

const f = Math.fround;

/** The hyperparameters of an Adam step, each already rounded as tfjs rounds an op's scalar operand. */
export interface AdamScalars {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  c1: number;
  c2: number;
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  lrWeightDecay: number;
  l2: boolean;
  decay: boolean;
}

/** One Adam step of every element (kernel-names.ts, ADAM_UPDATE). */
export function adamLoop(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  wOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  h: AdamScalars,
): void {
  const { lr, beta1, beta2, epsilon, weightDecay, c1, c2, oneMinusBeta1, oneMinusBeta2, lrWeightDecay, l2, decay } = h;
  for (let k = 0; k < w.length; k++) {
    const wk = w[k];
    const grad = l2 ? f(g[k] + f(wk * weightDecay)) : g[k];
    const mNew = f(f(m[k] * beta1) + f(grad * oneMinusBeta1));
    const vNew = f(f(v[k] * beta2) + f(f(grad * grad) * oneMinusBeta2));
    mOut[k] = mNew;
    vOut[k] = vNew;
    const denominator = f(f(Math.sqrt(f(vNew / c2))) + epsilon);
    let next = f(wk - f(f(f(mNew / c1) / denominator) * lr));
    if (decay) next = f(next - f(wk * lrWeightDecay));
    wOut[k] = next;
  }
}

/** One SGD step of every element (SGD_UPDATE); `v`, `vOut` only with momentum. lr, mu, wd rounded to float32. */
export function sgdLoop(
  w: Float32Array,
  g: Float32Array,
  v: Float32Array | undefined,
  wOut: Float32Array,
  vOut: Float32Array | undefined,
  lr: number,
  mu: number,
  wd: number,
  nesterov: boolean,
): void {
  for (let k = 0; k < w.length; k++) {
    const grad = wd !== 0 ? f(g[k] + f(w[k] * wd)) : g[k];
    let step = grad;
    if (v !== undefined && vOut !== undefined) {
      const vNew = f(f(v[k] * mu) + grad);
      vOut[k] = vNew;
      step = nesterov ? f(grad + f(vNew * mu)) : vNew;
    }
    wOut[k] = f(w[k] - f(step * lr));
  }
}

/** out = v·m + b·k for every element (MOVING_AVERAGE); m and k rounded to float32. */
export function movingAverageLoop(v: Float32Array, b: Float32Array, out: Float32Array, m: number, k: number): void {
  for (let j = 0; j < v.length; j++) out[j] = f(f(v[j] * m) + f(b[j] * k));
}

/** dz = dy where y > 0, else 0, and the sums of dz per channel (the last axis, `c` long), in double (RELU_BIAS_GRAD). */
export function reluBiasGradLoop(dy: Float32Array, y: Float32Array, dz: Float32Array, c: number): Float64Array {
  const sums = new Float64Array(c);
  const n = y.length;
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let i = k; i < n; i += c) {
      const g = y[i] > 0 ? dy[i] : 0;
      dz[i] = g;
      s += g;
    }
    sums[k] = s;
  }
  return sums;
}

/** The shape of a 'valid' 2-D max pooling of an NHWC tensor. */
export interface PoolGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
}

/** The geometry of a 'valid' max pooling of an NHWC tensor of shape `[n, h, w, c]`. */
export function poolGeometry([n, h, w, c]: readonly number[], [kh, kw]: readonly number[], [sh, sw]: readonly number[]): PoolGeometry {
  return { n, h, w, c, oh: Math.floor((h - kh) / sh) + 1, ow: Math.floor((w - kw) / sw) + 1, kh, kw, sh, sw };
}

/**
 * MAX_POOL_KEEPING_NAN: each window's largest value, or NaN when the window holds one (Math.max
 * gives NaN for a NaN operand).
 */
export function maxPoolNaNLoop(xs: Float32Array, y: Float32Array, p: PoolGeometry): void {
  const { n, h, w, c, oh, ow, kh, kw, sh, sw } = p;
  let out = 0;
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < oh; u++) {
      for (let v = 0; v < ow; v++) {
        for (let k = 0; k < c; k++) {
          let best = -Infinity;
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) best = Math.max(best, xs[((b * h + u * sh + i) * w + v * sw + j) * c + k]);
          }
          y[out++] = best;
        }
      }
    }
  }
}

/**
 * FIRST_MAX_POOL_GRAD: dx = 0, then each window's dy to the first of its largest elements in
 * row-major window order; one scan of each window, all channels at once (NHWC keeps a window
 * position's channels together).
 */
export function maxPoolGradLoop(xs: Float32Array, dys: Float32Array, dx: Float32Array, p: PoolGeometry): void {
  const { n, h, w, c, oh, ow, kh, kw, sh, sw } = p;
  dx.fill(0);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < oh; u++) {
      for (let v = 0; v < ow; v++) {
        const first = ((b * h + u * sh) * w + v * sw) * c;
        for (let k = 0; k < c; k++) {
          best[k] = -Infinity;
          at[k] = first + k;
        }
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const base = ((b * h + u * sh + i) * w + v * sw + j) * c;
            for (let k = 0; k < c; k++) {
              const value = xs[base + k];
              if (value > best[k]) {
                best[k] = value;
                at[k] = base + k;
              }
            }
          }
        }
        const from = ((b * oh + u) * ow + v) * c;
        for (let k = 0; k < c; k++) dx[at[k]] += dys[from + k];
      }
    }
  }
}

/** The geometry of COL2IM (kernel-names.ts), flattened: a window geometry with dilation and padding. */
export interface Col2ImGeometry extends PoolGeometry {
  dh: number;
  dw: number;
  top: number;
  left: number;
}

/** COL2IM: dx = 0, then every cols entry added where its window element lands inside the image. */
export function col2ImLoop(cols: Float32Array, dx: Float32Array, g: Col2ImGeometry): void {
  const { n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, top, left } = g;
  dx.fill(0);
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < oh; u++) {
      for (let v = 0; v < ow; v++, row++) {
        for (let i = 0; i < kh; i++) {
          const ty = sh * u + dh * i - top;
          if (ty < 0 || ty >= h) continue;
          for (let j = 0; j < kw; j++) {
            const tx = sw * v + dw * j - left;
            if (tx < 0 || tx >= w) continue;
            const dst = ((b * h + ty) * w + tx) * c;
            const src = (row * kh * kw + i * kw + j) * c;
            for (let k = 0; k < c; k++) dx[dst + k] += cols[src + k];
          }
        }
      }
    }
  }
}

/** CONV2D_FILTER_GRAD (kernel-names.ts), the geometry as COL2IM's plus `o` output channels; sums in double. */
export function convFilterGradLoop(x: Float32Array, dz: Float32Array, dw: Float32Array, g: Col2ImGeometry & { o: number }): void {
  const { n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw: dil, top, left, o } = g;
  const sums = new Float64Array(o);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ch = 0; ch < c; ch++) {
        sums.fill(0);
        for (let b = 0; b < n; b++)
          for (let y = 0; y < oh; y++) {
            const ty = sh * y + dh * i - top;
            if (ty < 0 || ty >= h) continue;
            for (let xx = 0; xx < ow; xx++) {
              const tx = sw * xx + dil * j - left;
              if (tx < 0 || tx >= w) continue;
              const value = x[((b * h + ty) * w + tx) * c + ch];
              const from = ((b * oh + y) * ow + xx) * o;
              for (let k = 0; k < o; k++) sums[k] += value * dz[from + k];
            }
          }
        dw.set(sums, ((i * kw + j) * c + ch) * o);
      }
}
