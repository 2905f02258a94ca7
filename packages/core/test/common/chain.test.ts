import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Pipeline } from "../../src/index.js";
import {
  Aggregator,
  BytesToStringParser,
  DictToJsonBytesParser,
  FlattenDictProcessor,
  HexlifyProcessor,
  IteratorGenerator,
  MappingItemsGenerator,
  NullSink,
  PrintProcessor,
  StdJsonToDictParser,
  StringAggregationStrategy,
  StringToBytesParser,
} from "../../src/common/index.js";
import { UnitTestSink, ListSource, createApp } from "../helpers.js";

describe("common processors in typed chains", () => {
  it("build() type-checks a chain of them, and it runs", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const printed = new PassThrough();
    const sink = new UnitTestSink<string>(app, p);
    p.build(
      new ListSource<string>(app, p),
      new StdJsonToDictParser<Record<string, unknown>>(app, p),
      new FlattenDictProcessor(app, p),
      new DictToJsonBytesParser(app, p),
      new BytesToStringParser(app, p),
      new PrintProcessor<string>(app, p, { stream: printed }),
      sink,
    );
    await p.start();
    await p.processBatch(['{"a": {"b": 1}}']);
    expect(sink.events).toEqual(['{"a.b": 1}']);
    expect(printed.read()?.toString()).toBe('{"a.b": 1}\n');
  });

  it("generators and the aggregator carry their types on", async () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    const sink = new UnitTestSink<Buffer>(app, p);
    p.build(
      new ListSource<Record<string, string>>(app, p),
      new MappingItemsGenerator<string, string>(app, p),
      new IteratorGenerator<string>(app, p),
      new Aggregator(app, p, { aggregationStrategy: new StringAggregationStrategy("+"), config: { completion_size: 4 } }),
      new StringToBytesParser(app, p),
      new HexlifyProcessor(app, p),
      sink,
    );
    await p.start();
    await p.processBatch([{ k: "v", x: "y" }]);
    expect(sink.events.map((b) => b.toString())).toEqual([Buffer.from("k+v+x+y").toString("hex")]);
  });

  it("build() refuses a component that cannot take what the one before gives (checked by tsc)", () => {
    const app = createApp();
    const p = new Pipeline(app, "P");
    // @ts-expect-error the second StringToBytesParser takes a string, the first gives a Buffer
    p.build(new ListSource<string>(app, p), new StringToBytesParser(app, p), new StringToBytesParser(app, p, { id: "Again" }), new NullSink(app, p));
    const q = new Pipeline(app, "Q");
    // @ts-expect-error StdJsonToDictParser takes JSON text (a string or bytes), the source gives numbers
    q.build(new ListSource<number>(app, q), new StdJsonToDictParser(app, q), new NullSink(app, q));
    const r = new Pipeline(app, "R");
    // @ts-expect-error FlattenDictProcessor gives an object, HexlifyProcessor takes bytes
    r.build(new ListSource<string>(app, r), new StdJsonToDictParser<Record<string, unknown>>(app, r), new FlattenDictProcessor(app, r), new HexlifyProcessor(app, r), new NullSink(app, r));
    expect(p.iterProcessors().next().value).toHaveLength(3);
  });
});
