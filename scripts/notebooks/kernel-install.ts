/**
 * `npm run kernel:install`: registers the einnet TypeScript kernel with Jupyter — no Python needed.
 *
 * Writes `<kernels folder>/einnet-tslab/kernel.json` whose command is this machine's node and
 * this project's kernel (scripts/notebooks/kernel.ts built into dist/, running the project's own
 * tslab, pinned in package.json), both as absolute paths, so JupyterLab and
 * VS Code start exactly the kernel the notebooks were written for. The kernels folder is
 * Jupyter's user data folder (as jupyter_core computes it):
 *   $JUPYTER_DATA_DIR/kernels                         when set, on every system
 *   Linux:   ${XDG_DATA_HOME:-~/.local/share}/jupyter/kernels
 *   macOS:   ~/Library/Jupyter/kernels
 *   Windows: %APPDATA%\jupyter\kernels
 * Run it again after moving the project or switching node versions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EinError } from '../../core/diagnostics';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME } from './ipynb';

const ROOT = path.resolve(__dirname, '..', '..');

/** Jupyter's per-user kernels folder for this environment and platform. */
export function jupyterKernelsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  if (env.JUPYTER_DATA_DIR !== undefined && env.JUPYTER_DATA_DIR !== '') return path.join(env.JUPYTER_DATA_DIR, 'kernels');
  if (platform === 'darwin') return path.join(home, 'Library', 'Jupyter', 'kernels');
  if (platform === 'win32') {
    const appData = env.APPDATA ?? path.join(home, 'AppData', 'Roaming');
    return path.join(appData, 'jupyter', 'kernels');
  }
  const xdg = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return path.join(xdg, 'jupyter', 'kernels');
}

/** The compiled einnet kernel (scripts/notebooks/kernel.ts, built by `npm run build`). */
export function kernelEntry(projectRoot: string = ROOT): string {
  return path.join(projectRoot, 'dist', 'scripts', 'notebooks', 'kernel.js');
}

/** The kernel spec: absolute node and the einnet kernel (tslab inside), with Jupyter's connection file. */
export function kernelSpec(projectRoot: string = ROOT, nodePath: string = process.execPath): Record<string, unknown> {
  return {
    argv: [nodePath, kernelEntry(projectRoot), '--config-path', '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
    // Jupyter sends SIGINT to interrupt (the kernel asks einnet's long calls to stop); the kernel
    // answers no interrupt_request message, as tslab does not.
    interrupt_mode: 'signal',
    metadata: { einnet: { project: projectRoot, tslab: tslabVersion(projectRoot) } },
  };
}

function tslabVersion(projectRoot: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules', 'tslab', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Writes the kernel spec (atomically) and returns the kernel.json path.
 * @throws EinError EIN6007 when tslab is not installed or the folder is not writable.
 */
export function installKernel(options: { env?: NodeJS.ProcessEnv; projectRoot?: string; nodePath?: string } = {}): string {
  const projectRoot = options.projectRoot ?? ROOT;
  const tslabBin = path.join(projectRoot, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!fs.existsSync(tslabBin)) {
    throw new EinError({ code: 'EIN6007', message: `tslab is not installed at ${tslabBin}`, hint: 'run npm install in the project first' });
  }
  if (!fs.existsSync(kernelEntry(projectRoot))) {
    throw new EinError({ code: 'EIN6007', message: `the einnet kernel is not built at ${kernelEntry(projectRoot)}`, hint: 'run npm run build first' });
  }
  const dir = path.join(jupyterKernelsDir(options.env ?? process.env), KERNEL_NAME);
  const file = path.join(dir, 'kernel.json');
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(kernelSpec(projectRoot, options.nodePath ?? process.execPath), null, 2) + '\n');
    fs.renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw new EinError({
      code: 'EIN6007',
      message: `cannot write ${file}: ${(e as Error).message}`,
      hint: 'set JUPYTER_DATA_DIR to a folder you can write (Jupyter then looks there too)',
    });
  }
  return file;
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* the folder itself is unusable; nothing was written */
  }
}

if (require.main === module) {
  try {
    const file = installKernel();
    console.log(`installed the '${KERNEL_DISPLAY_NAME}' kernel: ${file}`);
    console.log(`  node:  ${process.execPath}`);
    console.log(`  tslab: ${path.join(ROOT, 'node_modules', 'tslab')}`);
    console.log('open notebooks/*.ipynb in JupyterLab or VS Code and pick this kernel (see docs/notebooks.md)');
  } catch (e) {
    console.error(e instanceof EinError ? e.message : String(e));
    process.exitCode = 1;
  }
}
