import { mkdtempSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deferrals, pumpsIn } from "@pump/app-coindesk/testing";
import { ConfigFile, PPrintSink } from "@pump/core";
import { ProcessorTestCase } from "@pump/core/testing";
import { StreamServerSource } from "@pump/ipc";
import { describe, expect, it } from "vitest";
import { BlankAppApplication } from "../src/blank/index.ts";
import { BlankModule } from "../src/blank/module.ts";
import { ShakespeareanEnricher } from "../src/blank/processor.ts";
import { BlankService } from "../src/blank/service.ts";

const here = fileURLToPath(new URL("..", import.meta.url));
const defer = deferrals();
const pump = pumpsIn(here);

describe("ShakespeareanEnricher", () => {
  it("makes a question of each line, without its line ending, from text or bytes", async () => {
    const test = new ProcessorTestCase();
    test.setUpProcessor(ShakespeareanEnricher);
    const output = await test.execute([
      [null, "be"],
      [null, "die\r"],
      [null, Buffer.from("sleep\r\n")],
    ]);
    expect(output.map(([, event]) => event)).toEqual(["To be, or not to be?", "To die, or not to die?", "To sleep, or not to sleep?"]);
  });
});

describe("BlankAppApplication", () => {
  it("is made of BlankModule, whose BlankService builds and registers the TCP pipeline when the app runs", async () => {
    const app = new BlankAppApplication({ args: [], config: ConfigFile.parse("[pipeline:TCPPipeline:TCPSource]\nport=0", "test.conf") });
    expect(app.modules).toEqual([expect.any(BlankModule)]);
    const service = app.getService<BlankService>("blank.BlankService");
    expect(service).toBe((app.modules[0] as BlankModule).BlankService);
    expect(app.pumpService.pipelines.size).toBe(0); // built in initialize(), as in ASAB
    const running = app.run();
    while (service.TCPPipeline?.running !== true) await new Promise((resolve) => setTimeout(resolve, 10));
    const pipeline = service.TCPPipeline;
    expect(app.pumpService.pipelines.get("TCPPipeline")).toBe(pipeline);
    // The tutorial's section name finds the source: [pipeline:TCPPipeline:TCPSource] port=0 (any free port).
    const source = pipeline.locateSource("TCPSource") as StreamServerSource;
    expect((await source.listening())[0]).toMatchObject({ address: "127.0.0.1", port: expect.any(Number) });
    expect([...pipeline.iterProcessors()].flat().map((processor) => processor.constructor)).toEqual([ShakespeareanEnricher, PPrintSink]);
    app.stop();
    expect(await running).toBe(0);
  });
});

describe("the Blank App, run as `node src/bspump-blank-app.ts -c FILE`", () => {
  it("answers each line sent over TCP, and /blank?message= on its web server, on stderr; stops on Ctrl-C with exit code 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blank-app-"));
    writeFileSync(join(dir, "blank-app.conf"), "[web]\nlisten=127.0.0.1:0\n\n[pipeline:TCPPipeline:TCPSource]\nhost=127.0.0.1\nport=0\n");
    const child = pump(["src/bspump-blank-app.ts", "-c", join(dir, "blank-app.conf")]);
    await child.waitFor("both servers listened", () => child.stderr.includes("Web API listening") && child.stderr.includes("Listening on TCP"));
    const web = /Web API listening url="([^"]+)"/.exec(child.stderr)![1]!;
    const tcpPort = Number(/Listening on TCP .*"port":(\d+)/.exec(child.stderr)![1]);

    // socat STDIO TCP:127.0.0.1:8888, typing "be" and "die"
    const socket = createConnection(tcpPort, "127.0.0.1");
    defer(() => socket.destroy());
    socket.end("be\r\ndie\n");
    await child.waitFor("both lines were answered", () => child.stderr.includes("'To die, or not to die?'"));

    // http://localhost:8080/blank?message=sleep, and without a message
    const answer = await fetch(`${web}/blank?message=sleep`);
    expect([answer.status, await answer.text()]).toEqual([200, "Check stdout\n"]);
    expect(await (await fetch(`${web}/blank`)).text()).toBe("Check stdout\n");
    const printed = (): string[] => child.stderr.split("\n").filter((line) => line.startsWith("'"));
    await child.waitFor("the web requests were answered", () => printed().length >= 4);
    expect(printed()).toEqual(["'To be, or not to be?'", "'To die, or not to die?'", "'To sleep, or not to sleep?'", "'To be, or not to be?'"]);

    expect(await child.stop("SIGINT")).toBe(0);
    expect(child.stdout).toBe(""); // PPrintSink(stream=sys.stderr), as in the tutorial
  });
});
