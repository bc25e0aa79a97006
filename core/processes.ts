/**
 * Process liveness, for cleaning up what killed processes left behind (temporary files of
 * checkpoint saves and downloads carry their writer's pid). Node only.
 */

/** True while process `pid` exists on this machine (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
