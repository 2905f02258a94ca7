import { describe, expect, it } from "vitest";
import { Wakeup } from "../src/index.js";

describe("Wakeup", () => {
  it("sleep() resolves at the next wake(), every sleeper at once", async () => {
    const wakeup = new Wakeup();
    const woken: string[] = [];
    const a = wakeup.sleep().then(() => woken.push("a"));
    const b = wakeup.sleep().then(() => woken.push("b"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(woken).toEqual([]);
    wakeup.wake();
    await Promise.all([a, b]);
    expect(woken).toEqual(["a", "b"]);
  });

  it("a wake with nobody asleep is not kept for the next sleep", async () => {
    const wakeup = new Wakeup();
    wakeup.wake();
    let woken = false;
    const sleeping = wakeup.sleep(60_000).then(() => (woken = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(woken).toBe(false);
    wakeup.wake();
    await sleeping;
    expect(woken).toBe(true);
  });

  it("sleep(ms) ends after ms without a wake", async () => {
    const wakeup = new Wakeup();
    const started = performance.now();
    await wakeup.sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
