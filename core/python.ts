/**
 * Finding a Python that has PyTorch, for what runs exported programs and models (tests, training
 * scripts). `python3` on PATH may be an interpreter without torch (pyenv, a venv) while the
 * system's has it, so the candidates are tried in order: `EINNET_PYTHON`, `python3`,
 * `/usr/bin/python3`. Node only: nothing the browser bundle reaches imports this module.
 */
import { spawnSync } from 'node:child_process';
import { EinError } from './diagnostics';

const CANDIDATES = (): string[] => [process.env.EINNET_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => typeof p === 'string' && p !== '');

let found: { readonly python: string | undefined } | undefined;

/** The first candidate Python where `import torch` works, or undefined when none has torch. Asked once per process. */
export function findTorchPython(): string | undefined {
  if (found === undefined) {
    const python = CANDIDATES().find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0);
    found = { python };
  }
  return found.python;
}

/**
 * The Python to run PyTorch with.
 * @throws EinError EIN7002 when no candidate can `import torch`.
 */
export function torchPython(): string {
  const python = findTorchPython();
  if (python !== undefined) return python;
  throw new EinError({
    code: 'EIN7002',
    message: `no Python with PyTorch found (tried ${CANDIDATES().join(', ')})`,
    expected: 'a Python where `import torch` works',
    hint: 'install PyTorch (pip install torch), or set EINNET_PYTHON to a Python that has it',
  });
}
