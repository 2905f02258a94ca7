import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { PumpProcess } from "@pump/test-servers/process";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, expect, it } from "vitest";
import { Broker, freePort, TcpProxy, unique, until } from "../helpers.js";

const COPY_PUMP = fileURLToPath(new URL("../fixtures/copy-pump.ts", import.meta.url));

describeWithServer("An AMQP pump killed with SIGKILL mid-stream and started again", "AMQP_URL", (url) => {
  const broker = new Broker(url);
  const queues: string[] = [];
  afterAll(async () => {
    await broker.delete(...queues);
    await broker.close();
  });

  /** Bodies taken from the output queue so far, and which pump published each. */
  const copied = new Map<string, number>();
  const byPump = new Map<string, number>();
  let taken = 0;
  const collect = async (queue: string): Promise<number> => {
    for (const message of await broker.drain(queue)) {
      taken++;
      const body = message.content.toString();
      copied.set(body, (copied.get(body) ?? 0) + 1);
      const pump = String(message.properties.headers?.pump);
      byPump.set(pump, (byPump.get(pump) ?? 0) + 1);
    }
    return copied.size;
  };

  it("loses nothing: every message published to the input reaches the output queue (duplicates allowed, counted)", async () => {
    const input = unique("crash-in");
    const output = unique("crash-out");
    queues.push(input, output);
    await broker.queue(input);
    await broker.queue(output);
    const N = 20_000;
    for (let n = 0; n < N; n += 2000) await broker.publish(input, Array.from({ length: 2000 }, (_, k) => `m${n + k}`));
    expect(await broker.count(input)).toBe(N);
    // A confirm window (100) below the prefetch (1000): events wait in the sink for their turn to be published.
    const env = { AMQP_URL: url, IN_QUEUE: input, OUT_QUEUE: output, PACE_EVERY: "20", PACE_MS: "10", MAX_UNCONFIRMED: "100" };
    // The first pump talks to the broker through a proxy that can stop passing the broker's side.
    const target = new URL(url);
    const proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5672) });
    await proxy.open();
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const pumps: PumpProcess[] = [];
    try {
      const first = new PumpProcess(COPY_PUMP, { ...env, AMQP_URL: viaProxy.toString(), TAG: "first" });
      pumps.push(first);
      await until(async () => (await collect(output)) >= N / 4, "a quarter of the messages copied");
      // Killed while its sink holds events: confirms stop arriving (what the pump sends still goes through),
      // so the sink's window fills up and the events behind it wait unpublished; none may have been acknowledged.
      proxy.hold();
      await delay(300 + Math.random() * 300);
      first.kill("SIGKILL");
      expect(await first.exited, first.stderr).toBeNull(); // killed, not exited
      const copiedBeforeKill = await collect(output);
      expect(copiedBeforeKill).toBeLessThan(N); // it was killed mid-stream

      const second = new PumpProcess(COPY_PUMP, { ...env, TAG: "second" });
      pumps.push(second);
      // done when all arrived, or when nothing is left to arrive: the input is empty and the pump holds nothing
      const exhausted = async (): Promise<boolean> => second.last("HOLDING") === "0" && (await broker.count(input)) === 0;
      await until(async () => (await collect(output)) >= N || (await exhausted()), "every message copied after the restart", 3000);
      // stopped in order, it settles (acknowledges) what it holds: the output then has all it copied
      second.kill("SIGTERM");
      expect(await second.exited, second.stderr).toBe(0);
      await collect(output);

      const lost = Array.from({ length: N }, (_, n) => `m${n}`).filter((body) => !copied.has(body));
      const duplicates = taken - copied.size;
      console.log(
        `kill -9 test: ${N} published to the input, ${copiedBeforeKill} copied before the kill, ${lost.length} lost, ${duplicates} duplicates; ` +
          `by pump ${JSON.stringify(Object.fromEntries(byPump))}; the second pump's ${second.last("STATS")}`,
      );
      expect(lost.length, `lost: ${lost.slice(0, 20).join(" ")}...`).toBe(0);
      expect(copied.size).toBe(N);
      expect(byPump.get("second")).toBeGreaterThan(0);
      // what the second pump took, it acknowledged: nothing was left to deliver again
      expect(await broker.count(input)).toBe(0);
    } finally {
      for (const p of pumps) p.kill("SIGKILL");
      await proxy.close();
    }
  });
});
