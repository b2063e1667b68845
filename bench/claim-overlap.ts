/**
 * A warm claim's rename and the run's exec on a started container, direct through dockerode
 * (issue 11): the rename then the exec (as bosun did up to session 10), the exec made beside
 * the rename and started after it (as bosun does now), a bare exec, and a rename alone. Not part of
 * `npm run bench` (no target); a tool for the notes.
 * Run: N=60 node --import tsx bench/claim-overlap.ts
 */
import Docker from 'dockerode';
import { LABEL } from '../src/domain/labels.js';
import { TEST_IMAGE } from '../test/helpers/docker.js';
import { quietHost } from './lifecycle.js';
const d = new Docker();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function drain(s: NodeJS.ReadableStream) { await new Promise<void>((r) => { s.on('end', r); s.on('close', r); s.resume(); }); }
async function runExec(c: Docker.Container, exec?: Docker.Exec) {
  const e = exec ?? await c.exec({ Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true });
  const s = await e.start({ hijack: true, stdin: false });
  await drain(s as unknown as NodeJS.ReadableStream);
  const i = await e.inspect();
  if (i.ExitCode !== 0) throw new Error('exit');
}
const N = Number(process.env.N ?? 30);
const c = await d.createContainer({ Image: TEST_IMAGE, Entrypoint: ['sleep', '3600'], Labels: { [LABEL.test]: `claim-overlap-${process.pid}` }, HostConfig: { } });
await c.start();
const A: number[] = [], B: number[] = [], E: number[] = [], R: number[] = [];
try {
  for (let i = 0; i < 3; i++) await runExec(c);
  for (let i = 0; i < N; i++) {
    await quietHost();
    let t = performance.now();
    await c.rename({ name: `ovl-a-${process.pid}-${i}` });
    await runExec(c);
    A.push(performance.now() - t);
    await quietHost();
    t = performance.now();
    const [, ex] = await Promise.all([c.rename({ name: `ovl-b-${process.pid}-${i}` }), c.exec({ Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true })]);
    await runExec(c, ex);
    B.push(performance.now() - t);
    await quietHost();
    t = performance.now();
    await runExec(c);
    E.push(performance.now() - t);
    await quietHost();
    t = performance.now();
    await c.rename({ name: `ovl-r-${process.pid}-${i}` });
    R.push(performance.now() - t);
  }
  console.log(`n=${N} rename, then exec ${median(A).toFixed(1)}  exec made beside the rename, started after it ${median(B).toFixed(1)}  bare exec ${median(E).toFixed(1)}  rename ${median(R).toFixed(1)}`);
} finally { await c.remove({ force: true }); }
