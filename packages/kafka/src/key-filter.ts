import { Processor, type ComponentOptions, type Context, type Pipeline, type PumpApplication } from "@pump/core";

type Key = Buffer | Uint8Array | string;

/** Bytes as a string of the same length (latin1), so keys compare byte by byte in a Set. */
function asBytes(key: Key): string {
  if (typeof key === "string") return Buffer.from(key, "utf8").toString("latin1");
  return (Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)).toString("latin1");
}

/**
 * Passes the events whose `context.kafka_key` is one of `keys` and drops the others (a dropped event
 * is done: its offset is committed). Keys are compared as bytes; a string stands for its UTF-8 bytes.
 * Meant to follow a `KafkaSource`. Unlike BSPump, a record without a key is dropped, not an error.
 */
export class KafkaKeyFilter<T = unknown> extends Processor<T, T> {
  readonly keys: ReadonlySet<string>;

  constructor(app: PumpApplication, pipeline: Pipeline, keys: Key | Iterable<Key>, options: ComponentOptions = {}) {
    super(app, pipeline, options);
    const list: Iterable<Key> = typeof keys === "string" || keys instanceof Uint8Array ? [keys] : keys;
    this.keys = new Set([...list].map(asBytes));
  }

  process(context: Context, event: T): T | null {
    const key = context.kafka_key;
    if (key === null || key === undefined) return null;
    if (typeof key !== "string" && !(key instanceof Uint8Array)) return null;
    return this.keys.has(asBytes(key)) ? event : null;
  }
}
