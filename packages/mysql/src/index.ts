export { MySQLConnection, isTransient, RETRY_ERRNOS, RETRY_CODES } from "./connection.js";
export { MySQLSource, type MySQLRow, type MySQLSourceStats } from "./source.js";
export { MySQLSink, ROW_ERRNOS, isRowError, buildInsert, quoteIdentifier, toParameter } from "./sink.js";
export {
  MySQLError,
  MySQLRowError,
  MySQLDeliveryError,
  MySQLQueryError,
  MySQLEventError,
  serverReason,
  type MySQLErrorCode,
  type ServerReason,
} from "./errors.js";
export { MySQLLookup } from "./lookup.js";
