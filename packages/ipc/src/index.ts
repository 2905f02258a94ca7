export { StreamServerSource, TCPStreamSource, TCPSource, StreamSource, Stream, type StreamContext, type StreamServerSourceOptions } from "./stream-server-source.js";
export { StreamClientSink, StreamSink } from "./stream-client-sink.js";
export { DatagramSource, UDPSource, DatagramSink, type DatagramContext } from "./datagram.js";
export { LineProtocol, ChunkProtocol, decodeUtf8BackslashReplace, type StreamProtocol, type ProtocolFactory, type ProtocolOptions } from "./protocol.js";
export { parseAddress, type Address } from "./address.js";
export { IpcError, LineTooLongError, EventTypeError, NotSentError, ListenError, type IpcErrorCode } from "./errors.js";
