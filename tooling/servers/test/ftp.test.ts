import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { Client } from "basic-ftp";
import { expect, it } from "vitest";
import { ftpAccess } from "../index.js";
import { describeWithServer } from "../vitest.js";

async function download(client: Client, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await client.downloadTo(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
    path,
  );
  return Buffer.concat(chunks);
}

describeWithServer("ftp (basic-ftp)", "FTP_URL", (url) => {
  it("lists and downloads the sample files, then uploads, lists, downloads and removes a file", async () => {
    const client = new Client(15_000);
    const dir = `pump-smoke-${randomUUID()}`;
    try {
      await client.access(ftpAccess(url));
      const home = await client.pwd();

      // the user's home holds the files of tooling/servers/fixtures/ftp under samples/
      const samples = await client.list("samples");
      expect(samples.map((f) => f.name).toSorted()).toEqual(["hello.txt", "rows.csv"]);
      const hello = await download(client, "samples/hello.txt");
      expect(hello.toString()).toBe(await readFile(new URL("../fixtures/ftp/hello.txt", import.meta.url), "utf8"));

      const data = randomBytes(256 * 1024);
      await client.ensureDir(dir); // also changes into it
      await client.cd(home);
      await client.uploadFrom(Readable.from([data]), `${dir}/data.bin`);
      const listed = await client.list(dir);
      expect(listed.map((f) => [f.name, f.size])).toEqual([["data.bin", data.length]]);
      expect((await download(client, `${dir}/data.bin`)).equals(data)).toBe(true);
      await client.rename(`${dir}/data.bin`, `${dir}/renamed.bin`);
      expect((await client.list(dir)).map((f) => f.name)).toEqual(["renamed.bin"]);
    } finally {
      await client.removeDir(dir).catch(() => {});
      client.close();
    }
  });
});
