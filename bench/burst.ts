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

/** What `count` still finds once it had `ms` to reach 0 (containers removed after their replies, say). */
export async function leftAfter(count: () => Promise<number>, ms = 10_000): Promise<number> {
  for (const until = Date.now() + ms; Date.now() < until;) {
    if ((await count()) === 0) return 0;
    await new Promise((r) => setTimeout(r, 100));
  }
  return count();
}
