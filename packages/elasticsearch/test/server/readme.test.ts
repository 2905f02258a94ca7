import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { deleteIndices, REPO_ROOT, testClient, uniqueIndex } from "../helpers.js";

const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));

/** The README's first TypeScript block after "## Example". */
function readmeExample(): string {
  const readme = readFileSync(`${PACKAGE}README.md`, "utf8");
  const section = readme.slice(readme.indexOf("## Example"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error("no example in the README");
  return match[1]!;
}

describeWithServer("the README's example, run as a program against the node", "ES_URL", (url) => {
  const client = testClient(url);
  const index = uniqueIndex("readme");
  // In the package folder, so that "@pump/elasticsearch" and "@pump/core" resolve as for a user.
  const program = `${PACKAGE}.readme-example-${index}.ts`;

  beforeAll(() => {
    // The program imports the package by name: build it (turbo's test task also depends on build).
    const built = spawnSync(process.execPath, [`${REPO_ROOT}node_modules/typescript/bin/tsc`, "-p", `${PACKAGE}tsconfig.build.json`], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`build failed:\n${built.stdout}${built.stderr}`);
    writeFileSync(program, readmeExample());
  });

  afterAll(async () => {
    rmSync(program, { force: true });
    await deleteIndices(client, index);
    await client.close();
  });

  it("indexes 10 000 orders and exits 0 once Elasticsearch confirmed them", async () => {
    const child = spawn(process.execPath, [program], { cwd: PACKAGE, env: { ...process.env, ES_URL: url, ORDERS_INDEX: index }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    // A bound so a broken run cannot leave the program behind (never an expectation about speed).
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(timer);
    expect(code, output).toBe(0);
    await client.indices.refresh({ index });
    expect((await client.count({ index })).count).toBe(10_000);
    const order = await client.get<Record<string, unknown>>({ index, id: "order-1234" });
    // oxlint-disable-next-line no-underscore-dangle -- the API's field name
    expect(order._source).toMatchObject({ customer: "c10", amount: 34 });
  });
});
