export { PumpApplication, type PumpApplicationOptions } from "./application/application.js";
export { PumpService } from "./application/service.js";
export { parseCommandLine, USAGE, type CommandLine } from "./application/cli.js";

export { Pipeline, type PipelineOptions, type PipelineErrorState } from "./pipeline/pipeline.js";
export type { AnyProcessor, AnySink, Chain, InputOf, OutputOf } from "./pipeline/chain.js";
export type { PipelineCounters, PipelineMetricsSnapshot } from "./pipeline/metrics.js";

export type { ComponentOptions } from "./component/options.js";
export { ProcessorBase, type ProcessorProfile } from "./component/processor-base.js";
export { Processor, type ProcessResult } from "./component/processor.js";
export { Generator } from "./component/generator.js";
export { Sink } from "./component/sink.js";
export { BatchSink, type BatchEntry, type BatchLimits, type BatchOutcome, type BatchSinkStats } from "./component/batch-sink.js";
export { Source, isStopSignal } from "./component/source.js";
export { TriggerSource } from "./component/trigger-source.js";
export { Connection } from "./component/connection.js";

export { Trigger, type TriggerOptions } from "./trigger/trigger.js";
export { PeriodicTrigger } from "./trigger/periodic.js";
export { CronTrigger, type CronTriggerOptions } from "./trigger/cron.js";
export { RunOnceTrigger } from "./trigger/run-once.js";
export { PubSubTrigger, type PubSubTriggerOptions } from "./trigger/pubsub.js";
export { OpportunisticTrigger, type OpportunisticTriggerOptions } from "./trigger/opportunistic.js";

export * from "./common/index.js";
export * from "./web/index.js";

export * from "./lookup/index.js";
export * from "./analyzer/index.js";

export {
  InternalSource,
  DirectSource,
  Router,
  RouterSink,
  RouterProcessor,
  TeeProcessor,
  TeeSource,
  copyEvent,
  type EventReceiver,
} from "./routing/index.js";

export { DELIVERY, Delivery, deliveryOf, type SettleCallback } from "./delivery/delivery.js";
export { CommitWindow } from "./delivery/commit-window.js";

export { Config, collectDefaults, type ConfigValue, type ConfigValues } from "./config/config.js";
export { ConfigFile, type ConfigFileOptions } from "./config/conf-file.js";

export type { Context } from "./context.js";
export { PubSub, type Subscriber } from "./pubsub.js";
export { Wakeup } from "./wakeup.js";
export { Logger, logging, formatRecord, type LogLevel, type LogRecord, type LogWriter } from "./logger.js";
export {
  PumpError,
  ConfigError,
  PipelineBuildError,
  NotConsumedError,
  ProcessingError,
  NotFoundError,
  DuplicateError,
  StoppedError,
  DeliveryError,
  UndeliveredError,
  UsageError,
  QueueFullError,
  RoutingError,
  ParseError,
  ConformanceBreach,
  type PumpErrorCode,
  type ConfigLocation,
} from "./errors.js";
