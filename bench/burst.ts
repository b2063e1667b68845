/** Runs `job` n times with `width` at a time; completions time and failures, for burst benches. */
export async function burst(n: number, width: number, job: () => Promise<unknown>): Promise<{ seconds: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      next++;
      await job().catch(() => failures++);
    }
  }));
  return { seconds: (performance.now() - t0) / 1000, failures };
}
