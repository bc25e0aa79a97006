/**
 * `npm run build:wasm-kernels`: assembles backends/wasm/kernels.wat (einnet's SIMD loops over
 * tfjs-wasm's heap) with wabt into backends/wasm/kernels-wasm.ts, the module's bytes as base64.
 * The generated file is committed, so that nothing is assembled at install or run time;
 * test/backends/wasm-kernels.test.ts checks that it matches the .wat.
 *
 *   node scripts/build-wasm-kernels.mjs           # writes the .ts
 *   node scripts/build-wasm-kernels.mjs --print   # prints the .ts instead
 */
import { readFileSync, writeFileSync } from 'fs';
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WAT = join(root, 'backends/wasm/kernels.wat');
const OUT = join(root, 'backends/wasm/kernels-wasm.ts');

/** The .ts file's text for the .wat source `text`. */
export async function generate(text) {
  const wabt = await createRequire(import.meta.url)('wabt')();
  const module = wabt.parseWat('kernels.wat', text, { simd: true, bulk_memory: true });
  try {
    module.validate();
    const { buffer } = module.toBinary({});
    const base64 = Buffer.from(buffer).toString('base64');
    const lines = base64.match(/.{1,140}/g).map((l) => `  '${l}',`);
    return [
      '/**',
      ' * The bytes of backends/wasm/kernels.wat, assembled by scripts/build-wasm-kernels.mjs',
      ' * (`npm run build:wasm-kernels`); generated, do not edit.',
      ' */',
      'export const KERNELS_WASM_BASE64 = [',
      ...lines,
      "].join('');",
      '',
    ].join('\n');
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ts = await generate(readFileSync(WAT, 'utf8'));
  if (process.argv.includes('--print')) process.stdout.write(ts);
  else writeFileSync(OUT, ts);
}
