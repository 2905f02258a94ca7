// The conformance kit of @pump/core/testing against the file package: FileLineSource reads a folder
// whose files are its "messages" (post=delete: a file goes once every line of it settled), FileCSVSink
// and FileBlockSink write a file of their own per case. A folder has no connection and a local file no server to lose:
// those parts of the contracts are declared not applicable below.
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PeriodicTrigger } from "@pump/core";
import { sinkConformance, sourceConformance } from "@pump/core/testing";
import { describe, it } from "vitest";
import { FileBlockSink, FileCSVSink, FileLineSource, type Line } from "../src/index.js";
import { tempDir } from "./helpers.js";

describe("FileLineSource keeps the source contract (conformance kit)", () => {
  const cases = sourceConformance<Line>({
    name: "FileLineSource",
    notApplicable: { reconnects: "a folder on the local disk has no connection to drop" },
    setUp: async () => {
      const dir = await tempDir();
      return {
        create: (app, pipeline) =>
          new FileLineSource(app, pipeline, { config: { path: join(dir, "*.txt"), post: "delete", files_per_cycle: 0 } }).on(new PeriodicTrigger(app, 0.05)),
        // one file per call, a line per event; written aside and renamed in, so it is never seen half-written
        produce: async (from, count) => {
          const lines = Array.from({ length: count }, (_, k) => `${from + k}\n`).join("");
          await writeFile(join(dir, `${from}.part`), lines);
          await rename(join(dir, `${from}.part`), join(dir, `${from}.txt`));
        },
        idOf: (line) => Number(line.toString()),
        // a file is acknowledged (deleted) once all its lines settled
        drained: async () => (await readdir(dir)).length === 0,
        tearDown: () => Promise.resolve(),
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});

describe("FileCSVSink keeps the sink contract (conformance kit)", () => {
  const cases = sinkConformance<Record<string, unknown>>({
    name: "FileCSVSink",
    capacity: 100,
    notApplicable: {
      outage: "a local file has no server to be unreachable",
      throttle: "a local disk does not stall on demand (the sink throttles on its write buffer: csv.test.ts)",
      refusal: "a file refuses no row; a row the sink cannot write (not an object, an unknown field) fails in process(), before it is taken",
    },
    setUp: async () => {
      const path = join(await tempDir(), "out.csv");
      return {
        create: (app, pipeline) => new FileCSVSink(app, pipeline, { config: { path } }),
        event: (i) => ({ n: i, text: `row ${i}` }),
        // the rows in the file, its header aside
        stored: async () => {
          const text = await readFile(path, "utf8").catch(() => "");
          return Math.max(text.split("\n").filter((line) => line !== "").length - 1, 0);
        },
        tearDown: () => Promise.resolve(),
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});

describe("FileBlockSink keeps the sink contract (conformance kit)", () => {
  const cases = sinkConformance<string>({
    name: "FileBlockSink",
    capacity: 100,
    notApplicable: {
      outage: "a local file has no server to be unreachable",
      throttle: "the pipeline awaits each write: nothing is buffered to throttle on",
      refusal: "a file refuses no bytes; an event that is not bytes or a string fails in process(), before it is taken",
    },
    setUp: async () => {
      const path = join(await tempDir(), "blocks.txt");
      return {
        // appending, so that every event's block stays in the one file
        create: (app, pipeline) => new FileBlockSink(app, pipeline, { config: { path, mode: "ab", flags: "O_CREAT,O_APPEND" } }),
        event: (i) => `${i}\n`,
        stored: async () => (await readFile(path, "utf8").catch(() => "")).split("\n").filter((line) => line !== "").length,
        tearDown: () => Promise.resolve(),
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});
