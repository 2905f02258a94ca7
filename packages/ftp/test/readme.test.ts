import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { describeWithServer } from "@pump/test-servers/vitest";
import { codeBlock, sourceImport } from "@pump/test-servers/process";
import { TestFtp, unique } from "./helpers.js";

const example = fileURLToPath(new URL("./readme-example.ts", import.meta.url));

it("the README's example is the code of test/readme-example.ts", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  expect(codeBlock(readme, "ts", "## Example")).toBe(await readFile(example, "utf8"));
});

describeWithServer("the README's example against the FTP server", "FTP_URL", (url) => {
  const ftp = new TestFtp(url);
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await ftp.remove(dir);
    ftp.close();
  });

  it("runs with the README's configuration: reads the inbox once, prints each order, moves the files, exits 0", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const inbox = unique("inbox");
    const done = unique("done");
    dirs.push(inbox, done);
    await ftp.mkdir(inbox);
    await ftp.upload(`${inbox}/a.ndjson`, '{"item":"tea","quantity":2}\n{"item":"cake","quantity":1}\n');
    await ftp.upload(`${inbox}/b.ndjson`, '{"item":"coffee","quantity":3}\n');
    await ftp.upload(`${inbox}/notes.txt`, "not an order\n");
    const server = new URL(url);
    const conf = codeBlock(readme, "ini", "## Example")
      .replace("127.0.0.1:2121", server.host)
      .replace("ftp://pump:", `ftp://${server.username}:`)
      .replace("remote_path=/inbox", `remote_path=${inbox}`)
      .replace("move_destination=/done", `move_destination=${done}`);
    const dir = await mkdtemp(join(tmpdir(), "pump-ftp-readme-"));
    try {
      await writeFile(join(dir, "pump.conf"), conf);
      const child = spawn(process.execPath, ["--import", sourceImport(new URL("../", import.meta.url)), example, "-c", "pump.conf"], {
        cwd: dir,
        env: { ...process.env, FTP_PASSWORD: decodeURIComponent(server.password) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code, stdout + stderr).toBe(0);
      expect(stdout.trim().split("\n")).toEqual([`2 x tea (${inbox}/a.ndjson:1)`, `1 x cake (${inbox}/a.ndjson:2)`, `3 x coffee (${inbox}/b.ndjson:1)`]);
      // The password is never logged (the connection shows itself as ftp://user@host:port).
      expect(stdout + stderr).not.toContain(`:${decodeURIComponent(server.password)}@`);
      expect(await ftp.names(inbox)).toEqual(["notes.txt"]);
      expect(await ftp.names(done)).toEqual(["a.ndjson", "b.ndjson"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
