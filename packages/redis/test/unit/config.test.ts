import { ConfigError, Pipeline } from "@pump/core";
import { describe, expect, it } from "vitest";
import { RedisConnection, RedisListSink, RedisListSource } from "../../src/index.js";
import { createApp } from "../helpers.js";

function build(config: { connection?: Record<string, string>; source?: Record<string, string | number> }) {
  const app = createApp();
  const pipeline = new Pipeline(app, "P");
  const connection = new RedisConnection(app, "RedisConnection", { config: config.connection ?? {} });
  return () => new RedisListSource(app, pipeline, connection, { config: config.source ?? {} });
}

describe("configuration errors name the section and the key", () => {
  it.each([
    [{ source: {} }, "list", "PUMP_CONFIG_MISSING"],
    [{ source: { list: "q", processing_list: "q" } }, "processing_list", "PUMP_CONFIG_VALUE"],
    [{ source: { list: "q", decode: "klingon" } }, "decode", "PUMP_CONFIG_VALUE"],
    [{ source: { list: "q", prefetch: 0 } }, "prefetch", "PUMP_CONFIG_VALUE"],
  ])("%o → %s", (config, key, code) => {
    const make = build(config);
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (error) {
      expect((error as ConfigError).location.key).toBe(key);
      expect((error as ConfigError).code).toBe(code);
    }
  });

  it("a URL that is not redis:// is refused, and the message does not show its password", () => {
    const app = createApp();
    expect(() => new RedisConnection(app, "R", { config: { url: "http://user:hunter2@host:1" } })).toThrow(/expected a redis:\/\/ or rediss:\/\/ URL/);
    const thrown = (() => {
      try {
        return new RedisConnection(app, "R", { config: { url: "not a url hunter2" } });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(String(thrown)).not.toContain("hunter2");
  });

  it("a sink with batch_size 0 is refused", () => {
    const app = createApp();
    const pipeline = new Pipeline(app, "P");
    const connection = new RedisConnection(app, "RedisConnection");
    expect(() => new RedisListSink(app, pipeline, connection, { config: { batch_size: 0 } })).toThrow(/batch_size|at least 1/);
  });
});
