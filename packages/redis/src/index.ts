export { RedisConnection, type RedisBytesClient } from "./connection.js";
export { RedisListSource, type RedisListContext } from "./source.js";
export { RedisListSink } from "./sink.js";
export { RedisError, RedisRefusedError, RedisEncodeError, type RedisErrorCode } from "./errors.js";
