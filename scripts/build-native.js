#!/usr/bin/env node
/*
 * Builds einnet's optional oneDNN backend (backends/native) at install time — only when oneDNN's
 * headers are present. It must never make `npm install` fail: every path ends with exit code 0
 * and at most one line of output. Run by the package's "prepare" script; also by hand:
 *
 *   node scripts/build-native.js            build if oneDNN exists and the addon is stale
 *   node scripts/build-native.js --force    rebuild even if the addon is up to date
 *   node scripts/build-native.js --dry-run  say what it would do, build nothing
 *
 * Environment:
 *   EINNET_SKIP_NATIVE=1      do nothing
 *   EINNET_DNNL_PREFIX=/path  look for oneDNN only under /path (include/ and lib/), e.g. a source build
 *
 * Plain JavaScript on purpose: it runs before TypeScript is compiled, on a clean clone.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const NATIVE = path.join(ROOT, 'backends', 'native');
const ADDON = path.join(NATIVE, 'build', 'Release', 'einnet_native.node');
const LOG = path.join(NATIVE, 'build', 'build.log');

function say(line) {
  process.stdout.write(`einnet: ${line}\n`);
}

/** Where oneDNN lives: { include, lib } (lib undefined when the system linker finds it). */
function findOneDnn() {
  const explicit = process.env.EINNET_DNNL_PREFIX;
  const prefixes = explicit ? [explicit] : ['/usr', '/usr/local', '/opt/homebrew', '/opt/local'];
  for (const prefix of prefixes) {
    const header = path.join(prefix, 'include', 'oneapi', 'dnnl', 'dnnl.hpp');
    if (fs.existsSync(header)) {
      const system = prefix === '/usr';
      return { include: system ? undefined : path.join(prefix, 'include'), lib: system ? undefined : path.join(prefix, 'lib') };
    }
  }
  if (explicit) return undefined;
  // A pkg-config file, when some distribution or source build installed one.
  const pc = spawnSync('pkg-config', ['--variable=prefix', 'dnnl'], { encoding: 'utf8' });
  if (pc.status === 0 && pc.stdout.trim() !== '') {
    const prefix = pc.stdout.trim();
    if (fs.existsSync(path.join(prefix, 'include', 'oneapi', 'dnnl', 'dnnl.hpp'))) {
      return { include: path.join(prefix, 'include'), lib: path.join(prefix, 'lib') };
    }
  }
  return undefined;
}

/** node-gyp's entry script: our pinned devDependency, else the copy npm ships with. */
function findNodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [ROOT] });
  } catch {
    /* not installed (e.g. production install) */
  }
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return fromNpm;
  return undefined;
}

/** Node's own headers, so node-gyp need not download them (no internet on some machines). */
function nodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined;
}

function isFresh() {
  if (!fs.existsSync(ADDON)) return false;
  const built = fs.statSync(ADDON).mtimeMs;
  const sources = [path.join(NATIVE, 'binding.gyp'), ...fs.readdirSync(path.join(NATIVE, 'src')).map((f) => path.join(NATIVE, 'src', f))];
  return sources.every((s) => fs.statSync(s).mtimeMs <= built);
}

function main() {
  if (process.env.EINNET_SKIP_NATIVE === '1') return;
  const dnnl = findOneDnn();
  if (dnnl === undefined) {
    say('oneDNN not found, skipping the native CPU backend (optional; see docs/native-backend.md)');
    return;
  }
  const fresh = !process.argv.includes('--force') && isFresh();
  if (process.argv.includes('--dry-run')) {
    say(fresh ? 'the native CPU backend is up to date' : `would build the native CPU backend against oneDNN in ${dnnl.include ?? '/usr/include'}`);
    return;
  }
  if (fresh) return;
  const gyp = findNodeGyp();
  let addonApi = true;
  try {
    require.resolve('node-addon-api', { paths: [ROOT] });
  } catch {
    addonApi = false;
  }
  if (gyp === undefined || !addonApi) {
    say('node-gyp or node-addon-api missing, skipping the native CPU backend (run npm install with dev dependencies)');
    return;
  }
  const args = [gyp, 'rebuild'];
  const dir = nodeDir();
  if (dir !== undefined) args.push(`--nodedir=${dir}`);
  const env = { ...process.env };
  if (dnnl.include) env.EINNET_DNNL_INCLUDE = dnnl.include;
  if (dnnl.lib) env.EINNET_DNNL_LIB = dnnl.lib;
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { cwd: NATIVE, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
  try {
    fs.mkdirSync(path.dirname(LOG), { recursive: true });
    fs.writeFileSync(LOG, output);
  } catch {
    /* the log is a courtesy */
  }
  if (run.status === 0 && fs.existsSync(ADDON)) {
    say(`built the oneDNN native CPU backend in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    say(`building the native CPU backend failed (log: ${path.relative(ROOT, LOG)}); einnet will use wasm`);
  }
}

try {
  main();
} catch (e) {
  say(`native CPU backend skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
}
process.exitCode = 0;
