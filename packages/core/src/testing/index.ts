export { ProcessorTestCase, type ProcessorSpec, type ProcessorTestCaseOptions } from "./processor-test-case.js";
export { ManualClock } from "./manual-clock.js";
export { UnitTestSource } from "./unit-test-source.js";
export { UnitTestSink } from "./unit-test-sink.js";
