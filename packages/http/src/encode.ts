import { HTTPEncodeError } from "./errors.js";

/** How an event became bytes: as they were, as UTF-8 text, or as JSON. */
export type BodyKind = "bytes" | "text" | "json";

export interface EncodedBody {
  body: Uint8Array;
  kind: BodyKind;
  contentType: string;
}

export const CONTENT_TYPES: Readonly<Record<BodyKind, string>> = {
  bytes: "application/octet-stream",
  text: "text/plain; charset=utf-8",
  json: "application/json",
};

/**
 * An event (or a request body given in code) as bytes: a Buffer, Uint8Array or ArrayBuffer as it is,
 * a string as UTF-8, anything else as JSON. A value JSON cannot represent (undefined, a function, a
 * BigInt, a cycle) is an HTTPEncodeError.
 */
export function encodeValue(value: unknown): EncodedBody {
  if (value instanceof Uint8Array) return { body: value, kind: "bytes", contentType: CONTENT_TYPES.bytes };
  if (value instanceof ArrayBuffer) return { body: new Uint8Array(value), kind: "bytes", contentType: CONTENT_TYPES.bytes };
  if (typeof value === "string") return { body: Buffer.from(value, "utf8"), kind: "text", contentType: CONTENT_TYPES.text };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new HTTPEncodeError(`the event cannot be sent as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) throw new HTTPEncodeError(`the event cannot be sent as JSON: ${typeof value}`);
  return { body: Buffer.from(json, "utf8"), kind: "json", contentType: CONTENT_TYPES.json };
}

/** A request body given in code or config; undefined stays undefined. */
export function encodeBody(value: unknown): EncodedBody | undefined {
  return value === undefined ? undefined : encodeValue(value);
}
