import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codeBlock, sourceImport } from "@pump/test-servers/process";
import { TestServer, freePort, until } from "./helpers.js";

const example = fileURLToPath(new URL("./readme-example.ts", import.meta.url));

describe("the README's example", () => {
  it("is the code of test/readme-example.ts", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    expect(codeBlock(readme, "ts", "## Example")).toBe(await readFile(example, "utf8"));
  });

  it("relays the lines of a client to the server of the README's configuration, and stops with 0 on SIGTERM", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const dir = await mkdtemp(join(tmpdir(), "pump-ipc-"));
    const target = new TestServer();
    const targetPort = await target.listen();
    const relayPort = await freePort();
    const conf = codeBlock(readme, "ini", "## Example").replace("127.0.0.1 8888", `127.0.0.1 ${relayPort}`).replace("127.0.0.1 9999", `127.0.0.1 ${targetPort}`);
    await writeFile(join(dir, "relay.conf"), conf);
    const child = spawn(process.execPath, ["--import", sourceImport(new URL("../", import.meta.url)), example, "-c", "relay.conf"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => output.includes("Listening on TCP") || child.exitCode !== null, "the relay to listen");
      const client = connect({ host: "127.0.0.1", port: relayPort });
      await once(client, "connect");
      client.end("hello\nworld\n");
      const peer = `127.0.0.1 ${client.localPort}`;
      await until(() => target.text === `${peer}: HELLO\n${peer}: WORLD\n`, "the relayed lines");
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code, output).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
