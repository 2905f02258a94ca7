/**
 * How `KafkaSink` turns events and context values into Kafka record bytes.
 *
 * - value: a Buffer or Uint8Array as it is; a string in the sink's `encoding` (UTF-8 by default);
 *   null or undefined as a tombstone (no value); anything else as JSON (UTF-8).
 * - key (`context.kafka_key`): bytes as they are, a string as UTF-8, a number or bigint as its
 *   decimal text; null/undefined: no key.
 * - headers (`context.kafka_headers`): an object `{ name: value | value[] }` or a list of
 *   `[name, value]` pairs; values are bytes or strings (UTF-8); null/undefined values are left out.
 */
import type { KafkaHeaders, KafkaRecord } from "./client.js";
import { KafkaEncodeError } from "./errors.js";

function bytes(value: Buffer | Uint8Array | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function encodeValue(event: unknown, encoding: BufferEncoding): Buffer | null {
  if (event === null || event === undefined) return null;
  if (Buffer.isBuffer(event) || event instanceof Uint8Array || event instanceof ArrayBuffer) return bytes(event);
  if (typeof event === "string") return Buffer.from(event, encoding);
  let json: string | undefined;
  try {
    json = JSON.stringify(event);
  } catch (error) {
    throw new KafkaEncodeError(`the event cannot be written as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) throw new KafkaEncodeError(`a ${typeof event} event cannot be written as JSON`);
  return Buffer.from(json, "utf8");
}

export function encodeKey(key: unknown): Buffer | null {
  if (key === null || key === undefined) return null;
  if (Buffer.isBuffer(key) || key instanceof Uint8Array || key instanceof ArrayBuffer) return bytes(key);
  if (typeof key === "string") return Buffer.from(key, "utf8");
  if (typeof key === "number" || typeof key === "bigint") return Buffer.from(String(key), "utf8");
  throw new KafkaEncodeError(`context.kafka_key must be bytes, a string or a number, not ${key === null ? "null" : typeof key}`);
}

function headerValue(name: string, value: unknown): Buffer {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array || value instanceof ArrayBuffer) return bytes(value);
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return Buffer.from(String(value), "utf8");
  throw new KafkaEncodeError(`header '${name}' must be bytes or a string, not ${typeof value}`);
}

function addHeader(out: KafkaHeaders, name: string, value: Buffer): void {
  const present = out[name];
  if (present === undefined) out[name] = value;
  else if (Array.isArray(present)) present.push(value);
  else out[name] = [present, value];
}

export function encodeHeaders(headers: unknown): KafkaHeaders | undefined {
  if (headers === null || headers === undefined) return undefined;
  const out: KafkaHeaders = {};
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") {
        throw new KafkaEncodeError("context.kafka_headers as a list must hold [name, value] pairs");
      }
      if (pair[1] === null || pair[1] === undefined) continue;
      addHeader(out, pair[0], headerValue(pair[0], pair[1]));
    }
  } else if (typeof headers === "object") {
    for (const [name, value] of Object.entries(headers)) {
      if (value === null || value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) addHeader(out, name, headerValue(name, v));
      else addHeader(out, name, headerValue(name, value));
    }
  } else {
    throw new KafkaEncodeError(`context.kafka_headers must be an object or a list of [name, value] pairs, not ${typeof headers}`);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Bytes a record holds (value, key, headers), as the buffer bounds count them. */
export function recordSize(record: KafkaRecord): number {
  let size = (record.value?.length ?? 0) + (record.key?.length ?? 0);
  if (record.headers !== undefined) {
    for (const [name, value] of Object.entries(record.headers)) {
      if (Array.isArray(value)) for (const v of value) size += name.length + v.length;
      else size += name.length + value.length;
    }
  }
  return size;
}
