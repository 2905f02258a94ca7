export { ProcessorTestCase, type ProcessorSpec, type ProcessorTestCaseOptions } from "./processor-test-case.js";
export { ManualClock } from "./manual-clock.js";
export { UnitTestSource } from "./unit-test-source.js";
export { UnitTestSink } from "./unit-test-sink.js";
export { TcpProxy, freePort } from "./tcp-proxy.js";
export { until } from "./until.js";
export type { ConformanceCase } from "./conformance/case.js";
export { sinkConformance, type SinkSubject, type SinkTarget } from "./conformance/sink.js";
export { MemoryServer, MemorySink } from "./conformance/memory-server.js";
