export { FTPConnection, type FTPSecurity } from "./connection.js";
export { FTPSource, type FTPContext, type FTPPostAction, type FTPSourceStats } from "./source.js";
export type { FTPFormat } from "./reader.js";
export { FtpError, FTPConnectionError, FTPTransferError, FTPRecordError, type FtpErrorCode } from "./errors.js";
