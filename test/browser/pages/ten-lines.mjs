// Page side of test/browser/ten-lines.test.ts: runs in Chromium against the bundle under test.
import * as m from '../einnet.mjs';

const tf = m.tf;
const SOURCE = `
  L1[b,x,y,j:6] = relu(W1[Δx:5,Δy:5,I,j] · L0[b,x+Δx,y+Δy,I] + B1[j])
  L2[b,x,y,j]   = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]`;

/** max |a − b| / max |b|. */
function relative(a, b) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return Number.isFinite(diff) ? diff / scale : Infinity;
}

/** The Ten lines program and dL2sum/dW1 on `backend` and on cpu, identical seeded inputs. */
export async function compareWithCpu(backend) {
  const rng = m.seededRandom(7);
  const uniform = (n) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
  const data = { L0: uniform(8 * 28 * 28), W1: uniform(5 * 5 * 6), B1: uniform(6) };
  const lenet = m.ein(SOURCE);
  const shapes = lenet.check({ L0: [8, 28, 28, 1] }).shapes;
  const runOn = async (name) => {
    const info = await m.useBackend(name);
    const L0 = tf.tensor(data.L0, [8, 28, 28, 1]);
    const W1 = tf.tensor(data.W1, [5, 5, 1, 6]);
    const B1 = tf.tensor(data.B1, [6]);
    const { L2 } = lenet.run({ L0, W1, B1 });
    const dW1 = tf.grad((w) => tf.sum(lenet.run({ L0, W1: w, B1 }).L2))(W1);
    const values = { L2: await L2.data(), dW1: await dW1.data(), ranOn: tf.getBackend() };
    tf.dispose([L0, W1, B1, L2, dW1]);
    return { info, values };
  };
  const gpu = await runOn(backend);
  const cpu = await runOn('cpu');
  return {
    backend: gpu.info.name,
    ranOn: gpu.values.ranOn,
    adapter: gpu.info.adapter ?? null,
    shapes,
    errors: { L2: relative(gpu.values.L2, cpu.values.L2), dW1: relative(gpu.values.dW1, cpu.values.dW1) },
  };
}

async function codeOf(name) {
  try {
    await m.useBackend(name);
    return 'no error';
  } catch (e) {
    return `${e.code}: ${e.message}`;
  }
}

export async function selectionErrors() {
  const result = { native: await codeOf('native'), tpu: await codeOf('tpu') };
  await m.useBackend('cpu');
  return result;
}

/** tfjs' flag set as on a device without float32 render targets (SwiftShader has them). */
export async function float16Only() {
  tf.env().set('WEBGL_RENDER_FLOAT32_CAPABLE', false);
  try {
    const named = (await codeOf('webgl')).split(':')[0];
    const chosen = await m.useBackend();
    return { named, chosen: chosen.name, after: tf.getBackend() };
  } finally {
    tf.env().set('WEBGL_RENDER_FLOAT32_CAPABLE', true);
    await m.useBackend('cpu');
  }
}

/** IDX bytes: magic 00 00 08 <ndims>, big-endian sizes, then uint8 values. */
function idx(dims, values) {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

/** MNIST-style IDX from bytes and from a (gzip) URL in the page, and the errors of damaged files. */
export async function idxInThePage() {
  const images = idx([3, 2, 2], [0, 64, 128, 255, 1, 2, 3, 4, 5, 6, 7, 8]);
  const labels = idx([3], [7, 0, 9]);
  const options = { name: 'tiny', classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
  const set = m.idxImageSetFromBytes(images, labels.buffer, options);
  // Over a URL, gzip-compressed, decompressed by the browser.
  const gz = await new Response(new Blob([images]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
  const url = URL.createObjectURL(new Blob([gz]));
  const fetched = new Uint8Array(await new Response((await fetch(url)).body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  const again = m.idxImageSetFromBytes(fetched, labels, options);
  const codeOf = (f) => {
    try {
      f();
      return 'no error';
    } catch (e) {
      return e.code;
    }
  };
  return {
    count: set.count,
    shape: [set.height, set.width, set.channels],
    labels: Array.from(set.labels),
    sameAfterUrl: again.count === set.count && Array.from(again.labels).join() === Array.from(set.labels).join(),
    truncated: codeOf(() => m.idxImageSetFromBytes(images.subarray(0, images.length - 1), labels, options)),
    swapped: codeOf(() => m.idxImageSetFromBytes(labels, images, options)),
    countMismatch: codeOf(() => m.idxImageSetFromBytes(images, idx([2], [1, 2]), options)),
    badLabel: codeOf(() => m.idxImageSetFromBytes(images, idx([3], [1, 2, 10]), options)),
  };
}
