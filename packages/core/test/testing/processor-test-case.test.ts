import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Generator, Processor, type Context } from "../../src/index.js";
import { ProcessorTestCase } from "../../src/testing/index.js";

class Upper extends Processor<{ foo: string }, { foo: string }> {
  process(_c: Context, e: { foo: string }): { foo: string } {
    return { foo: e.foo.toUpperCase() };
  }
}

class Stamp extends Processor {
  process(context: Context, e: unknown): unknown {
    context.at = this.time();
    return e;
  }
}

/** Emits the number of events it saw on each tick. */
class CountPerTick extends Generator {
  seen = 0;
  override start(): void {
    this.app.pubsub.subscribe("Application.tick!", () => {
      this.pipeline.inject({}, this.seen, this.pipelineDepth + 1);
      this.seen = 0;
    });
  }
  generate(): void {
    this.seen++;
  }
}

describe("ProcessorTestCase", () => {
  it("runs a processor on [context, event] pairs and returns what reached the sink (BSPump's example)", async () => {
    const t = new ProcessorTestCase();
    t.setUpProcessor(Upper);
    const output = await t.execute([[undefined, { foo: "bar" }], [{ k: 1 }, { foo: "baz" }]]);
    expect(output.map(([, e]) => e)).toEqual([{ foo: "BAR" }, { foo: "BAZ" }]);
    expect(output[1]![0]).toEqual({ k: 1 });
    expect(await t.execute([[{}, { foo: "x" }]])).toEqual([[{}, { foo: "X" }]]);
    await t.tearDown();
  });

  it("reads component config from .conf text", async () => {
    class Suffix extends Processor<string, string> {
      static override ConfigDefaults = { suffix: "!" };
      process(_c: Context, e: string): string {
        return e + this.config.get("suffix");
      }
    }
    const t = new ProcessorTestCase({ config: "[pipeline:UnitTestPipeline:Suffix]\nsuffix = ?\n" });
    t.setUpProcessor(Suffix);
    expect((await t.execute([[{}, "a"]])).map(([, e]) => e)).toEqual(["a?"]);
  });

  it("has a manual clock: time() reads it, advance() ticks the application once per second", async () => {
    const t = new ProcessorTestCase({ now: 1000 });
    t.setUpProcessor(Stamp, (app, pipeline) => new CountPerTick(app, pipeline));
    await t.execute([[{}, 1], [{}, 2]]);
    t.advance(1);
    await t.execute([[{}, 3]]);
    t.advance(2.5);
    const output = t.pipeline.locateProcessor("UnitTestSink") as unknown as { output: [Context, unknown][] };
    expect(output.output.map(([, e]) => e)).toEqual([2, 1, 0]);
    expect(t.clock.now).toBe(1003.5);
    expect((await t.execute([[{}, 4]])).length).toBe(0);
  });

  it("rejects with a hard error instead of hanging", async () => {
    class Fails extends Processor {
      process(): never {
        throw new TypeError("bad input");
      }
    }
    const t = new ProcessorTestCase();
    t.setUpProcessor(Fails);
    await expect(t.execute([[{}, 1]])).rejects.toThrow("bad input");
    await t.tearDown();
  });

  it("works from node's own test runner too, through the @pump/core/testing entry point", () => {
    const fixture = fileURLToPath(new URL("../fixtures/node-test-harness.test.mjs", import.meta.url));
    const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", fixture], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toMatch(/# pass 1/);
    expect(run.status).toBe(0);
  });
});
