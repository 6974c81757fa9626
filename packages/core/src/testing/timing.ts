/**
 * How late timers fire on this machine right now, in milliseconds: the worst lateness of a few short
 * timers run one after another. About 1 ms on an idle machine; tens of ms or more when every core is
 * busy. A test whose wait must cover the machine's own slowness (for example a tool timeout that has to
 * outlast a local HTTP round trip) derives it from this instead of assuming an idle machine. Speed
 * targets are checked by benchmarks; this only sizes margins.
 */
export async function timerLag(samples = 5, intervalMs = 10): Promise<number> {
  let worst = 0;
  for (let sample = 0; sample < samples; sample++) {
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    worst = Math.max(worst, performance.now() - started - intervalMs);
  }
  return worst;
}
