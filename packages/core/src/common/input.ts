/**
 * What the common processors check their events with, and how they name what they got when it is
 * the wrong thing ("expected bytes, got a number").
 */

/** Bytes as BSPump's processors take them: a Uint8Array (a Buffer is one). */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** A Buffer view of bytes, without copying them. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain object (what JSON.parse makes; Python's dict): not an array, a Map, a Date or another class's instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Python's Mapping: a plain object or a Map. */
export function isMapping(value: unknown): value is Readonly<Record<string, unknown>> | ReadonlyMap<unknown, unknown> {
  return value instanceof Map || isPlainObject(value);
}

/** `target[key] = value`, also for the key "__proto__" (JSON.parse makes it an own key; assigning it would set the prototype). */
export function assignKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** "a string", "a number", "null", "a Buffer", "an array", "a Map", "an object"... for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "bigint":
      return "a bigint";
    case "boolean":
      return "a boolean";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      break;
  }
  if (Array.isArray(value)) return "an array";
  if (isPlainObject(value)) return "an object";
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name === "string" && name !== "") return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
  return "an object";
}
