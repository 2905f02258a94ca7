import { setTimeout as delay } from "node:timers/promises";

/**
 * Resolves once `condition` holds, checking every `intervalMs`. It gives up (throws, naming `what`)
 * after `giveUpMs` so that a broken component fails its test instead of hanging it: a guard, not a
 * timing assertion — pass a bound far above what the condition needs.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, { intervalMs = 10, giveUpMs = 60_000 } = {}): Promise<void> {
  const deadline = performance.now() + giveUpMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await delay(intervalMs);
  }
}
