/**
 * Every error @pump/core raises, in one place. Each has a stable `code` so callers (and
 * `handleError` overrides) can tell them apart without matching on messages.
 */

export type PumpErrorCode =
  | "PUMP_CONFIG"
  | "PUMP_CONFIG_MISSING"
  | "PUMP_CONFIG_VALUE"
  | "PUMP_CONFIG_FILE"
  | "PUMP_PIPELINE_BUILD"
  | "PUMP_NOT_CONSUMED"
  | "PUMP_PROCESSING"
  | "PUMP_NOT_FOUND"
  | "PUMP_DUPLICATE"
  | "PUMP_STOPPED"
  | "PUMP_DELIVERY"
  | "PUMP_UNDELIVERED"
  | "PUMP_USAGE"
  | "PUMP_QUEUE_FULL"
  | "PUMP_ROUTING"
  | "PUMP_PARSE"
  | "PUMP_CONFORMANCE_BREACH"
  // connector packages define codes of their own
  | (string & {});

export class PumpError extends Error {
  readonly code: PumpErrorCode;

  constructor(code: PumpErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Where in the configuration a problem was found; every part is optional because values also come from code. */
export interface ConfigLocation {
  file?: string | undefined;
  line?: number | undefined;
  section?: string | undefined;
  key?: string | undefined;
}

function describeLocation(at: ConfigLocation): string {
  const parts: string[] = [];
  if (at.file !== undefined) parts.push(at.line !== undefined ? `${at.file}:${at.line}` : at.file);
  if (at.section !== undefined) parts.push(`[${at.section}]`);
  if (at.key !== undefined) parts.push(`key '${at.key}'`);
  return parts.length > 0 ? `${parts.join(" ")}: ` : "";
}

/** A configuration problem: an unparsable file, a missing required key, a value of the wrong type. */
export class ConfigError extends PumpError {
  readonly location: ConfigLocation;

  constructor(
    message: string,
    location: ConfigLocation = {},
    code: "PUMP_CONFIG" | "PUMP_CONFIG_MISSING" | "PUMP_CONFIG_VALUE" | "PUMP_CONFIG_FILE" = "PUMP_CONFIG",
    options?: ErrorOptions,
  ) {
    super(code, `${describeLocation(location)}${message}`, options);
    this.location = location;
  }
}

/** A pipeline assembled wrongly: a processor after a sink, a non-source given as a source. */
export class PipelineBuildError extends PumpError {
  constructor(message: string) {
    super("PUMP_PIPELINE_BUILD", message);
  }
}

/** An event came out of the last processor without a Sink taking it. */
export class NotConsumedError extends PumpError {
  constructor(pipelineId: string, lastComponentId: string | undefined) {
    super(
      "PUMP_NOT_CONSUMED",
      `Incomplete pipeline '${pipelineId}': event not consumed by a Sink` +
        (lastComponentId === undefined ? " (the pipeline has no processors)" : ` (last component: '${lastComponentId}')`),
    );
  }
}

/**
 * A component failed on an event. Wraps the original error (`cause`) with the pipeline and the
 * component, so logs and `handleError` see where it happened.
 */
export class ProcessingError extends PumpError {
  readonly pipelineId: string;
  readonly componentId: string | undefined;

  constructor(pipelineId: string, componentId: string | undefined, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      "PUMP_PROCESSING",
      componentId === undefined ? `Pipeline '${pipelineId}': ${reason}` : `Pipeline '${pipelineId}', component '${componentId}': ${reason}`,
      { cause },
    );
    this.pipelineId = pipelineId;
    this.componentId = componentId;
  }
}

/** `locate*` found nothing under that id. */
export class NotFoundError extends PumpError {
  constructor(what: string, id: string, hint?: string) {
    super("PUMP_NOT_FOUND", `${what} '${id}' not found${hint === undefined ? "" : ` (${hint})`}`);
  }
}

/** An id registered twice with the service or a pipeline. */
export class DuplicateError extends PumpError {
  constructor(what: string, id: string) {
    super("PUMP_DUPLICATE", `${what} '${id}' is already registered`);
  }
}

/**
 * Raised into a source that awaits `pipeline.ready()`, `sleep()` or `stopped()` while it is being
 * stopped, so that `while (true) { await this.pipeline.ready(); ... }` loops end cleanly.
 */
export class StoppedError extends PumpError {
  constructor(what: string) {
    super("PUMP_STOPPED", `${what} is stopping`);
  }
}

/** Misuse of delivery tracking, e.g. an event's delivery settled more times than it was held. */
export class DeliveryError extends PumpError {
  constructor(message: string) {
    super("PUMP_DELIVERY", message);
  }
}

/** A sink gave up on events: the server refused them, or could not be reached before their delivery timeout. */
export class UndeliveredError extends PumpError {
  /** How many events were given up on together. */
  readonly events: number;

  constructor(message: string, events: number, options?: ErrorOptions) {
    super("PUMP_UNDELIVERED", message, options);
    this.events = events;
  }
}

/** A bad command line. */
export class UsageError extends PumpError {
  constructor(message: string) {
    super("PUMP_USAGE", message);
  }
}

/** `InternalSource.put()` on a full queue: the caller ignored backpressure (route through a RouterSink, or use `putAsync`). */
export class QueueFullError extends PumpError {
  constructor(address: string, size: number) {
    super("PUMP_QUEUE_FULL", `The queue of '${address}' is full (${size} events): wait for it with putAsync() or route through a RouterSink`);
  }
}

/** A route to an address that is not an InternalSource, a DirectSource or a TeeProcessor. */
export class RoutingError extends PumpError {
  constructor(message: string) {
    super("PUMP_ROUTING", message);
  }
}

/**
 * An event a component cannot take: invalid JSON, bytes that do not decode, a value of the wrong
 * type. Names the component (its address) and the problem; `position` is the offset in the input
 * where parsing failed, when known; the original error is the `cause`.
 */
export class ParseError extends PumpError {
  readonly component: string;
  readonly position: number | undefined;

  constructor(component: string, problem: string, options?: ErrorOptions & { position?: number | undefined }) {
    super("PUMP_PARSE", `'${component}': ${problem}`, options);
    this.component = component;
    this.position = options?.position;
  }
}

/** A component under the conformance kit (`@pump/core/testing`) broke the contract every connector keeps. */
export class ConformanceBreach extends PumpError {
  constructor(component: string, message: string) {
    super("PUMP_CONFORMANCE_BREACH", `${component}: ${message}`);
  }
}
