import { ConfigError, Connection, Pipeline } from "@pump/core";
import { describe, expect, it } from "vitest";
import { AMQPConnection, AMQPRoutingError, AMQPSink, AMQPSource, encode } from "../../src/index.js";
import { createApp } from "../helpers.js";

class OtherConnection extends Connection {}

describe("AMQPConnection configuration", () => {
  it("takes credentials and the vhost from the URL, overridden by their own keys, and never shows the password", () => {
    const app = createApp("[connection:A]\nurl=amqp://alice:s3cret@broker.example:5673/prod\n[connection:B]\nurl=amqp://alice:s3cret@broker.example/prod\nusername=bob\npassword=pw\nvhost=test\n");
    const a = new AMQPConnection(app, "A");
    expect(a.vhost).toBe("prod");
    expect(a.url).toBe("amqp://alice:***@broker.example:5673/prod");
    const b = new AMQPConnection(app, "B");
    expect(b.vhost).toBe("test");
    expect(b.url).toBe("amqp://bob:***@broker.example/test");
    expect(JSON.stringify(b.restGet())).not.toContain("pw");
  });

  it("defaults to guest on localhost, vhost /", () => {
    const connection = new AMQPConnection(createApp(), "C");
    expect(connection.vhost).toBe("/");
    expect(connection.url).toBe("amqp://guest:***@localhost/%2F");
    expect(connection.isOpen).toBe(false);
    expect(connection.acquire()).toBeUndefined();
  });

  it("refuses a URL that is not amqp:// or amqps://, and bad numbers, naming the key", () => {
    expect(() => new AMQPConnection(createApp(), { id: "X", config: { url: "http://localhost" } })).toThrow(/\[connection:X\] key 'url'/);
    expect(() => new AMQPConnection(createApp(), { id: "X", config: { url: "not a url" } })).toThrow(ConfigError);
    expect(() => new AMQPConnection(createApp(), { id: "X", config: { heartbeat: -1 } })).toThrow(/key 'heartbeat'/);
  });
});

function setup(): { app: ReturnType<typeof createApp>; pipeline: Pipeline } {
  const app = createApp();
  app.pumpService.addConnection(new AMQPConnection(app, "AMQPConnection"));
  app.pumpService.addConnection(new OtherConnection(app, "Other"));
  return { app, pipeline: new Pipeline(app, "P") };
}

describe("AMQPSource and AMQPSink configuration", () => {
  it("checks its keys", () => {
    const { app, pipeline } = setup();
    expect(() => new AMQPSource(app, pipeline, "AMQPConnection", { config: { queue: "" } })).toThrow(/key 'queue'/);
    expect(() => new AMQPSource(app, pipeline, "AMQPConnection", { config: { prefetch_count: 0 } })).toThrow(/key 'prefetch_count'/);
    expect(() => new AMQPSource(app, pipeline, "AMQPConnection", { config: { on_failure: "drop" } })).toThrow(/key 'on_failure'/);
    expect(new AMQPSource(app, pipeline, "AMQPConnection", { config: { on_failure: "reject" } }).onFailure).toBe("dead-letter");
    expect(() => new AMQPSink(app, pipeline, "AMQPConnection", { config: { delivery_mode: 3 } })).toThrow(/key 'delivery_mode'/);
    expect(() => new AMQPSink(app, pipeline, "AMQPConnection", { config: { max_unconfirmed: 0 } })).toThrow(/key 'max_unconfirmed'/);
    expect(() => new AMQPSource(app, pipeline, "Other")).toThrow(/not an AMQPConnection/);
    expect(() => new AMQPSink(app, pipeline, "Other")).toThrow(/not an AMQPConnection/);
  });

  it("the sink throttles its pipeline while it has no channel, and takes the exchange from the context only with !context", () => {
    const { app, pipeline } = setup();
    const sink = new AMQPSink(app, pipeline, "AMQPConnection", { config: { exchange: "!context" } });
    sink.start();
    expect(pipeline.getThrottles().has(sink)).toBe(true);
    expect(() => sink.process({}, "x")).toThrow(AMQPRoutingError);
    sink.process({ "amqp.exchange": "ex", "amqp.routing_key": "rk" }, "x");
    expect(sink.buffered).toBe(1);
    expect(sink.bufferedBytes).toBe(1);
  });
});

describe("encode", () => {
  it("publishes Buffers and strings as they are, anything else as JSON", () => {
    expect(encode(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(encode(new Uint8Array([3, 4]))).toEqual(Buffer.from([3, 4]));
    expect(encode("žluť").toString("utf8")).toBe("žluť");
    expect(JSON.parse(encode({ a: [1, null] }).toString())).toEqual({ a: [1, null] });
    expect(() => encode(undefined)).toThrow(AMQPRoutingError);
  });
});
