import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { until } from "@pump/core/testing";
import { PumpProcess } from "@pump/test-servers/process";
import { describeWithServer } from "@pump/test-servers/vitest";
import { expect, it } from "vitest";
import { TestRedis, unique } from "../helpers.js";

const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = join(PACKAGE, "examples", "upper-pump.ts");

it("the README shows examples/upper-pump.ts and its .conf as they are", () => {
  const readme = readFileSync(join(PACKAGE, "README.md"), "utf8");
  expect(readme).toContain(readFileSync(EXAMPLE, "utf8").trim());
  expect(readme).toContain(readFileSync(join(PACKAGE, "examples", "upper-pump.conf"), "utf8").trim());
});

describeWithServer("The README's example pump against Redis", "REDIS_URL", (url) => {
  const redis = new TestRedis(url);

  it("runs with node, copies one list into another upper-cased, and stops with 0 on SIGTERM", async () => {
    const [words, upper] = [unique("words"), unique("upper-words")];
    await redis.push(words, ["hello", "redis"]);
    const conf = readFileSync(join(PACKAGE, "examples", "upper-pump.conf"), "utf8")
      .replace("redis://127.0.0.1:6379", url)
      .replace("list=words", `list=${words}`)
      .replace("list=upper-words", `list=${upper}`);
    const file = join(mkdtempSync(join(tmpdir(), "pump-redis-readme-")), "upper-pump.conf");
    writeFileSync(file, conf);
    const pump = new PumpProcess(EXAMPLE, {}, ["-c", file]);
    try {
      let exited = false;
      void pump.exited.then(() => (exited = true));
      await until(async () => exited || (await redis.length(upper)) === 2, "the upper-cased words");
      expect(exited, `the pump exited early: ${pump.stderr}`).toBe(false);
      pump.kill("SIGTERM");
      expect(await pump.exited).toBe(0);
      expect((await redis.read(upper)).map(String)).toEqual(["HELLO", "REDIS"]);
      expect(await redis.length(`${words}:processing`)).toBe(0);
    } finally {
      pump.kill("SIGKILL");
      await redis.delete(words, upper);
      await redis.close();
    }
  });
});
