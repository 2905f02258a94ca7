import { join } from "node:path";
import { PassThrough } from "node:stream";
import { PrintSink, PumpApplication } from "@pump/core";
import { describe, expect, it } from "vitest";
import { createPump } from "../src/index.js";
import { buildTutorial } from "./fixtures/tutorial/pump.ts";
import { FIXTURES, runPump, runProcess } from "./helpers.js";

const DEFINITION = join(FIXTURES, "tutorial", "pump.yaml");
const CODE = join(FIXTURES, "tutorial", "pump.ts");

const EXPECTED = [
  '{"id":1,"customer_name":"Ann","customer_city":"Brno","lines":2,"total":12.5}',
  '{"id":2,"customer_name":"Bob","customer_city":"Praha","lines":1,"total":3}',
  '{"id":3,"customer_name":"Cyril","customer_city":"Olomouc","lines":5,"total":99.9}',
];

/** What a pump is made of: pipelines, and their components with classes, ids and config. */
function shape(app: PumpApplication): unknown {
  return [...app.pumpService.pipelines.values()].map((p) => ({
    id: p.id,
    sources: p.sources.map((s) => [s.constructor.name, s.id, s.config.toObject()]),
    processors: [...p.iterProcessors()].flat().map((c) => [c.constructor.name, c.id, c.config.toObject()]),
  }));
}

/** Points the pump's PrintSink at a stream of our own and runs the pump to its end. */
async function outputOf(app: PumpApplication): Promise<string[]> {
  const sink = app.pumpService.locate("OrdersPipeline.PrintSink") as PrintSink;
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  Object.defineProperty(sink.output, "stream", { value: stream });
  expect(await app.run()).toBe(0);
  return text.split("\n").filter((line) => line !== "");
}

describe("the tutorial pump as a definition", () => {
  it("prints the same lines as the code version, both run as commands (pump run FILE vs node pump.ts)", async () => {
    const fromFile = await runPump(["run", DEFINITION]);
    const fromCode = await runProcess(process.execPath, [CODE]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromCode.code, fromCode.stderr).toBe(0);
    expect(fromFile.stdout).toBe(fromCode.stdout);
    expect(fromFile.stdout.split("\n").filter(Boolean)).toEqual(EXPECTED);
    expect(fromFile.stderr).toMatch(/1 pipeline ready/);
  });

  it("builds the same pump in process: same pipeline, same components, same output", async () => {
    const fromFile = await createPump(DEFINITION);
    const fromCode = new PumpApplication({ args: [] });
    buildTutorial(fromCode);
    expect(shape(fromFile)).toEqual(shape(fromCode));
    expect(await outputOf(fromFile)).toEqual(EXPECTED);
    expect(await outputOf(fromCode)).toEqual(EXPECTED);
  });
});
