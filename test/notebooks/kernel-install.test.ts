/**
 * `npm run kernel:install` writes kernel.json into Jupyter's user kernels folder (as jupyter_core
 * computes it per platform, honouring JUPYTER_DATA_DIR), with absolute paths to this machine's
 * node and this project's tslab. No Python involved.
 */
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { installKernel, jupyterKernelsDir } from '../../scripts/notebooks/kernel-install';
import { expectEinError } from '../datasets/expect-error';
import { ROOT, runScript, tempDir } from './helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the Jupyter kernels folder', () => {
  it('follows jupyter_core on each platform', () => {
    expect(jupyterKernelsDir({}, 'linux', '/home/ada')).toBe('/home/ada/.local/share/jupyter/kernels');
    expect(jupyterKernelsDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/ada')).toBe('/xdg/jupyter/kernels');
    expect(jupyterKernelsDir({}, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Jupyter/kernels');
    expect(jupyterKernelsDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ada')).toBe(
      path.join('C:\\Users\\ada\\AppData\\Roaming', 'jupyter', 'kernels'),
    );
  });

  it('JUPYTER_DATA_DIR wins everywhere', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(jupyterKernelsDir({ JUPYTER_DATA_DIR: '/data', XDG_DATA_HOME: '/xdg' }, platform, '/home/ada')).toBe(path.join('/data', 'kernels'));
    }
  });
});

describe('installKernel', () => {
  it('writes kernel.json with absolute paths to node and the project’s kernel (tslab inside), interrupted by SIGINT', () => {
    const data = tempDir('jupyter');
    dirs.push(data);
    const file = installKernel({ env: { JUPYTER_DATA_DIR: data } });
    expect(file).toBe(path.join(data, 'kernels', 'einnet-tslab', 'kernel.json'));
    const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { argv: string[]; display_name: string; language: string; interrupt_mode: string };
    expect(spec.argv[0]).toBe(process.execPath);
    expect(spec.argv[1]).toBe(path.join(ROOT, 'dist', 'scripts', 'notebooks', 'kernel.js'));
    expect(spec.interrupt_mode).toBe('signal');
    for (const p of spec.argv.slice(0, 2)) {
      expect(path.isAbsolute(p)).toBe(true);
      expect(fs.existsSync(p)).toBe(true);
    }
    expect(spec.argv.slice(2)).toEqual(['--config-path', '{connection_file}']);
    expect(spec.display_name).toBe('TypeScript (einnet)');
    expect(spec.language).toBe('typescript');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['kernel.json']); // no temporary file left
  });

  it('runs as a command and says where it wrote', () => {
    const data = tempDir('jupyter');
    dirs.push(data);
    const r = runScript('scripts/notebooks/kernel-install.ts', [], { JUPYTER_DATA_DIR: data });
    expect(r.status).toBe(0);
    expect(r.output).toContain(`installed the 'TypeScript (einnet)' kernel: ${path.join(data, 'kernels', 'einnet-tslab', 'kernel.json')}`);
    expect(fs.existsSync(path.join(data, 'kernels', 'einnet-tslab', 'kernel.json'))).toBe(true);
  });

  it('says what to do when the folder cannot be written', () => {
    const data = tempDir('jupyter');
    dirs.push(data);
    const notAFolder = path.join(data, 'file');
    fs.writeFileSync(notAFolder, 'x');
    expectEinError(() => installKernel({ env: { JUPYTER_DATA_DIR: notAFolder } }), 'EIN6007', 'cannot write', 'JUPYTER_DATA_DIR');
  });

  it('says when tslab is not installed', () => {
    const project = tempDir('project');
    dirs.push(project);
    expectEinError(() => installKernel({ projectRoot: project, env: { JUPYTER_DATA_DIR: project } }), 'EIN6007', 'tslab is not installed', 'npm install');
  });
});
