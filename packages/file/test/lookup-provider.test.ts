import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as core from "@pump/core";
import { DictionaryLookup } from "@pump/core";
import { FileBatchLookupProvider } from "../src/index.js";
import { createApp, tempDir } from "./helpers.js";

describe("FileBatchLookupProvider", () => {
  it("is core's provider, the one a lookup with a file source_url uses: it loads the file and the lookup is a master", async () => {
    expect(FileBatchLookupProvider).toBe(core.FileBatchLookupProvider);
    const dir = await tempDir();
    const path = join(dir, "countries.json");
    await writeFile(path, JSON.stringify({ cz: "Czechia", sk: "Slovakia" }));
    const lookup = new DictionaryLookup<string>(createApp(), "Countries", { config: { source_url: path } });
    expect(lookup.provider).toBeInstanceOf(FileBatchLookupProvider);
    expect(lookup.masterUrl).toBeUndefined();
    expect(await lookup.update()).toBe(true);
    expect(lookup.get("cz")).toBe("Czechia");
  });

  it("saves data into the file, creating its folder", async () => {
    const dir = await tempDir();
    const path = join(dir, "nested", "data.json");
    const lookup = new DictionaryLookup<string>(createApp(), "L", { config: { source_url: path } });
    const provider = lookup.provider as InstanceType<typeof FileBatchLookupProvider>;
    await provider.save(new TextEncoder().encode('{"a":"b"}'));
    expect(await readFile(path, "utf8")).toBe('{"a":"b"}');
    expect(await lookup.update()).toBe(true);
    expect(lookup.get("a")).toBe("b");
  });
});
