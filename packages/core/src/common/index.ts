// BSPump's common processors and sinks (`bspump.common`), minus routing (see ../routing).
export { StringToBytesParser } from "./string-to-bytes-parser.js";
export { BytesToStringParser } from "./bytes-to-string-parser.js";
export { textCodec, type TextCodec } from "./text-codec.js";
export { StdJsonToDictParser } from "./std-json-to-dict-parser.js";
export { StdDictToJsonParser } from "./std-dict-to-json-parser.js";
export { DictToJsonBytesParser } from "./dict-to-json-bytes-parser.js";
export { jsonDumps, type JsonDumpsOptions } from "./json-dumps.js";
export { FlattenDictProcessor } from "./flatten-dict-processor.js";
export { MappingKeysProcessor, MappingValuesProcessor, MappingItemsProcessor, type Mapping } from "./mapping-processor.js";
export { MappingKeysGenerator, MappingValuesGenerator, MappingItemsGenerator } from "./mapping-generator.js";
export { MappingTransformator, type ItemTransform } from "./mapping-transformator.js";
export { HexlifyProcessor } from "./hexlify-processor.js";
export { TimeZoneNormalizer, type NaiveDateTime } from "./time-zone-normalizer.js";
export { NullSink } from "./null-sink.js";
export { PrintSink, PPrintSink } from "./print-sink.js";
export { PrintProcessor, PPrintProcessor } from "./print-processor.js";
export { PrintContextProcessor, PPrintContextProcessor } from "./print-context-processor.js";
export { PrintOutput, formatLine, formatPretty, type PrintOptions } from "./print-output.js";
export { IteratorSource } from "./iterator-source.js";
export { IteratorGenerator, type AnyIterable } from "./iterator-generator.js";
export { Aggregator, type AggregatorOptions } from "./aggregator.js";
export {
  AggregationStrategy,
  ListAggregationStrategy,
  ListEventAggregationStrategy,
  StringAggregationStrategy,
} from "./aggregation-strategy.js";
