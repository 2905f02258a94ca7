export { FileABCSource, FileInput, type FileContext, type FileSourceStats, type PostAction } from "./file-source.js";
export { FileLineSource, FileMultiLineSource, type Line } from "./line-source.js";
export { FileJSONSource } from "./json-source.js";
export { JsonStreamParser, JsonSyntaxError, type ParsedValue } from "./json-parser.js";
export { FileCSVSource, type CsvRow } from "./csv-source.js";
export { FileBlockSource } from "./block-source.js";
export { FileBlockSink } from "./block-sink.js";
export { FileCSVSink, formatCsvRow } from "./csv-sink.js";
export { FileBatchLookupProvider } from "./lookup-provider.js";
export { QUOTE_MINIMAL, QUOTE_ALL, QUOTE_NONNUMERIC, QUOTE_NONE, type CsvDialect, type Quoting } from "./csv-dialect.js";
export {
  FileError,
  FileRecordError,
  FileFormatError,
  FileEncodingError,
  FileRecordTooLargeError,
  FileReadError,
  FileWriteError,
  type FileErrorCode,
} from "./errors.js";
