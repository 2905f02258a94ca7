import { TextDecoder } from "node:util";
import type { Config } from "../config/config.js";
import { ConfigError } from "../errors.js";
import { asBuffer } from "./input.js";

/**
 * Text to bytes and back for the bytes parsers, by the `encoding` and `errors` keys of a
 * component's configuration, as Python's `str.encode(encoding, errors)` / `bytes.decode(...)`.
 *
 * Encodings: Node's (utf-8, utf-16le, latin1, ascii, base64, base64url, hex) under their Node or
 * Python names (utf8, utf_8, latin-1, iso-8859-1, us-ascii, utf-16-le...); decoding also takes every
 * WHATWG label TextDecoder knows (windows-1250, iso-8859-2, shift_jis, utf-16be...). Anything else is
 * a ConfigError when the component is constructed.
 *
 * `errors=strict` (Python's default, and BSPump's) refuses what the encoding cannot express: bytes
 * that are not valid UTF-8, a character outside ASCII or Latin-1, a lone surrogate, a hex or base64
 * string that is not one. `errors=replace` substitutes instead ("?" when encoding to ascii or latin1,
 * U+FFFD otherwise), which is what Node's Buffer does by itself.
 */
export interface TextCodec {
  /** The encoding as Node or TextDecoder names it. */
  readonly encoding: string;
  /** Throws a TypeError (strict) when the text cannot be encoded. */
  encode(text: string): Buffer;
  /** Throws a TypeError (strict) when the bytes do not decode. */
  decode(bytes: Uint8Array): string;
}

type NodeEncoding = "utf8" | "utf16le" | "latin1" | "ascii" | "base64" | "base64url" | "hex";

const ALIASES: ReadonlyMap<string, NodeEncoding> = new Map(Object.entries({
  "utf-8": "utf8", utf8: "utf8", u8: "utf8",
  "utf-16le": "utf16le", "utf-16-le": "utf16le", utf16le: "utf16le", "ucs-2": "utf16le", ucs2: "utf16le",
  "latin-1": "latin1", latin1: "latin1", "iso-8859-1": "latin1", "iso8859-1": "latin1", l1: "latin1", binary: "latin1",
  ascii: "ascii", "us-ascii": "ascii", "646": "ascii",
  base64: "base64", base64url: "base64url", hex: "hex",
} satisfies Record<string, NodeEncoding>));

const HEX = /^(?:[0-9a-f]{2})*$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function firstOutside(text: string, max: number): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > max) return i;
  return -1;
}

function loneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

function codePointAt(text: string, index: number): string {
  return `U+${text.codePointAt(index)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

function nodeCodec(encoding: NodeEncoding, strict: boolean): TextCodec {
  const encode = (text: string): Buffer => {
    switch (encoding) {
      case "ascii":
      case "latin1": {
        const max = encoding === "ascii" ? 0x7f : 0xff;
        const at = firstOutside(text, max);
        if (at < 0) return Buffer.from(text, "latin1");
        if (strict) throw new TypeError(`'${encoding}' cannot encode ${codePointAt(text, at)} at index ${at}`);
        return Buffer.from(text.replace(max === 0x7f ? /[\u{80}-\u{10ffff}]/gu : /[\u{100}-\u{10ffff}]/gu, "?"), "latin1");
      }
      case "utf8":
      case "utf16le": {
        if (text.isWellFormed()) return Buffer.from(text, encoding);
        if (strict) throw new TypeError(`'${encoding}' cannot encode the lone surrogate at index ${loneSurrogate(text)}`);
        return Buffer.from(text.toWellFormed(), encoding);
      }
      case "hex":
      case "base64":
      case "base64url": {
        const pattern = encoding === "hex" ? HEX : encoding === "base64" ? BASE64 : BASE64URL;
        if (strict && (!pattern.test(text) || (encoding === "base64url" && text.length % 4 === 1))) {
          throw new TypeError(`the text is not ${encoding === "hex" ? "an even number of hex digits" : `valid ${encoding}`}`);
        }
        return Buffer.from(text, encoding);
      }
    }
  };
  let decode: (bytes: Uint8Array) => string;
  if (encoding === "utf8" || encoding === "utf16le") {
    const label = encoding === "utf8" ? "utf-8" : "utf-16le";
    // ignoreBOM keeps a byte order mark as U+FEFF, as Python's "utf-8" does.
    const decoder = strict ? new TextDecoder(label, { fatal: true, ignoreBOM: true }) : undefined;
    decode = decoder === undefined ? (bytes) => asBuffer(bytes).toString(encoding) : (bytes) => decoder.decode(bytes);
  } else if (encoding === "ascii") {
    decode = (bytes) => {
      const at = bytes.findIndex((b) => b > 0x7f);
      if (at < 0) return asBuffer(bytes).toString("latin1");
      if (strict) throw new TypeError(`'ascii' cannot decode byte 0x${bytes[at]!.toString(16)} at position ${at}`);
      // Node's own 'ascii' decoding drops the high bit; Python's errors="replace" gives U+FFFD.
      return asBuffer(bytes).toString("latin1").replace(/[\x80-\xff]/gu, "\ufffd");
    };
  } else {
    decode = (bytes) => asBuffer(bytes).toString(encoding);
  }
  return { encoding, encode, decode };
}

function whatwgDecoder(label: string, strict: boolean): TextDecoder | undefined {
  try {
    return new TextDecoder(label, { fatal: strict, ignoreBOM: true });
  } catch {
    return undefined;
  }
}

/**
 * The codec for a component's `encoding` / `errors` keys. `needs` says what the component does
 * with it: an encoding it cannot do that with is a ConfigError naming the section and key.
 */
export function textCodec(config: Config, needs: "encode" | "decode"): TextCodec {
  const name = config.get("encoding");
  const errors = config.get("errors", "strict").trim().toLowerCase();
  if (errors !== "strict" && errors !== "replace") {
    throw new ConfigError(`expected 'strict' or 'replace', got '${errors}'`, { section: config.section, key: "errors" }, "PUMP_CONFIG_VALUE");
  }
  const strict = errors === "strict";
  const key = name.trim().toLowerCase().replaceAll("_", "-");
  const node = ALIASES.get(key) ?? ALIASES.get(key.replaceAll("-", ""));
  if (node !== undefined) return nodeCodec(node, strict);
  const decoder = needs === "decode" ? whatwgDecoder(name.trim(), strict) : undefined;
  if (decoder !== undefined) {
    const refuse = (): never => {
      throw new TypeError(`cannot encode to '${decoder.encoding}'`);
    };
    return { encoding: decoder.encoding, encode: refuse, decode: (bytes) => decoder.decode(bytes) };
  }
  const supported = "utf-8, utf-16le, latin1, ascii, base64, base64url, hex" + (needs === "decode" ? ", or a WHATWG label such as windows-1250" : "");
  throw new ConfigError(`unknown encoding '${name}' to ${needs} with: use ${supported}`, { section: config.section, key: "encoding" }, "PUMP_CONFIG_VALUE");
}
