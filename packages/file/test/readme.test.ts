import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codeBlock, sourceImport } from "@pump/test-servers/process";
import { listFiles, tempDir } from "./helpers.js";

const example = fileURLToPath(new URL("./readme-example.ts", import.meta.url));

describe("the README's example", () => {
  it("is the code of test/readme-example.ts", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    expect(codeBlock(readme, "ts", "## Example")).toBe(await readFile(example, "utf8"));
  });

  it("runs with the README's configuration: reads the inbox once, writes the totals, moves the files, exits 0", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const dir = await tempDir();
    await writeFile(join(dir, "pump.conf"), codeBlock(readme, "ini", "## Example"));
    await mkdir(join(dir, "inbox"));
    await mkdir(join(dir, "out"));
    await writeFile(join(dir, "inbox", "a.csv"), "item,price,quantity\ntea,2.5,4\ncake,3,1\n");
    await writeFile(join(dir, "inbox", "b.csv"), "item,price,quantity\ncoffee,4,2\n");
    const child = spawn(process.execPath, ["--import", sourceImport(new URL("../", import.meta.url)), example, "-c", "pump.conf"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, output).toBe(0);
    expect(await readFile(join(dir, "out", "orders.csv"), "utf8")).toBe(
      "item,price,quantity,total,file\ntea,2.5,4,10,./inbox/a.csv\ncake,3,1,3,./inbox/a.csv\ncoffee,4,2,8,./inbox/b.csv\n",
    );
    expect(await listFiles(dir)).toEqual(["done/a.csv-processed", "done/b.csv-processed", "out/orders.csv", "pump.conf"]);
  });
});
