/** Runs a command without a shell, with a timeout; output captured (bounded) for logs. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const LIMIT = 64 * 1024;

export function runCommand(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; signal?: AbortSignal; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    // its own process group, so a timeout also ends what a script left running in the background
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    let exited = false;
    const timer = setTimeout(() => {
      if (exited) return;
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString('utf8')).slice(-LIMIT)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-LIMIT)));
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, stdout, stderr, timedOut });
    };
    child.on('error', (e) => {
      stderr += String(e.message);
      finish(127);
    });
    // 'close' waits for every holder of the pipes (a background child keeps them open):
    // settle at exit, after a short grace for the last output; what the command left running
    // in the background is its business (only a timeout ends the whole group)
    child.on('exit', (code) => {
      exited = true;
      const result = code ?? (timedOut ? 124 : 1);
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(result);
      }, 200);
      child.once('close', () => {
        clearTimeout(grace);
        finish(result);
      });
    });
  });
}
