export { InfluxDBConnection, type Precision } from "./connection.js";
export { InfluxDBSink, type InfluxDBSinkStats } from "./sink.js";
export { LineEncoder, hasTimestamp, secondsToTimestamp, toTimestamp, type InfluxEvent, type InfluxPoint, type InfluxTuple, type TagValue, type FieldValue } from "./line.js";
export { InfluxDBError, InfluxDBEventError, InfluxDBWriteError, InfluxDBPointError, InfluxDBDeliveryError, type InfluxDBErrorCode } from "./errors.js";
