// The conformance kit of @pump/core/testing against FTPSource and the rig's FTP server: files are
// "messages" (mode p: a file is deleted once every line of it settled), each case in a folder of its
// own, the control connection cut by a TCP proxy.
import { PeriodicTrigger } from "@pump/core";
import { sourceConformance, TcpProxy } from "@pump/core/testing";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, it } from "vitest";
import { FTPConnection, FTPSource } from "../src/index.js";
import { TestFtp, unique } from "./helpers.js";

describeWithServer("FTPSource keeps the source contract (conformance kit)", "FTP_URL", (serverUrl) => {
  const ftp = new TestFtp(serverUrl);
  afterAll(() => ftp.close());

  const cases = sourceConformance<string>({
    name: "FTPSource",
    setUp: async () => {
      const dir = unique("conformance");
      await ftp.mkdir(dir);
      const { proxy, url } = await TcpProxy.to(serverUrl, 21);
      await proxy.open();
      return {
        create: (app, pipeline) => {
          app.pumpService.addConnection(new FTPConnection(app, "FTPConnection", { config: { url, timeout: 5 } }));
          return new FTPSource<string>(app, pipeline, "FTPConnection", { config: { remote_path: dir, mode: "p", encoding: "utf-8", fail_chilldown: 0.1 } }).on(new PeriodicTrigger(app, 0.1));
        },
        // one file per call, a line per event
        produce: (from, count) => ftp.upload(`${dir}/${from}.txt`, Array.from({ length: count }, (_, k) => String(from + k)).join("\n") + "\n"),
        idOf: (line) => Number(line),
        // a file is acknowledged (deleted) once all its lines settled
        drained: async () => (await ftp.names(dir)).length === 0,
        drop: () => {
          proxy.cut();
          return Promise.resolve();
        },
        tearDown: async () => {
          await proxy.close();
          await ftp.remove(dir);
        },
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});
