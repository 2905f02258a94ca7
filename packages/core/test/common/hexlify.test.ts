import { describe, expect, it } from "vitest";
import { HexlifyProcessor } from "../../src/common/index.js";
import { until } from "../helpers.js";
import { harness, parseErrorOf } from "./harness.js";

describe("HexlifyProcessor", () => {
  it("gives lowercase hex digits as bytes (BSPump's vector)", async () => {
    const h = await harness((app, p) => [new HexlifyProcessor(app, p)]);
    await h.send([Buffer.from([0x12, 0x34, 0x56, 0x78]), Buffer.from([0xab, 0xba, 0xba, 0xbe]), new Uint8Array([0xde, 0xad, 0xc0, 0xde])]);
    expect(h.output).toEqual([Buffer.from("12345678"), Buffer.from("abbababe"), Buffer.from("deadc0de")]);
    expect(h.output.every((e) => Buffer.isBuffer(e))).toBe(true);
  });

  it("hexlifies only the bytes a view covers; empty bytes give empty bytes", async () => {
    const h = await harness((app, p) => [new HexlifyProcessor(app, p)]);
    await h.send([new Uint8Array([1, 2, 3, 4]).subarray(1, 3), Buffer.alloc(0)]);
    expect(h.output).toEqual([Buffer.from("0203"), Buffer.alloc(0)]);
  });

  it("refuses a string (Python: TypeError)", async () => {
    const h = await harness((app, p) => [new HexlifyProcessor(app, p)]);
    void h.send(["abc"]);
    await until(() => h.pipeline.isError());
    expect(parseErrorOf(h.pipeline).message).toBe("'P.HexlifyProcessor': expected bytes (a Uint8Array or Buffer) to hexlify, got a string");
  });
});
