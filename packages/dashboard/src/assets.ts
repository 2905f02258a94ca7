import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { MissingAssetError } from "./errors.js";

/** One file of the page, read once, with its validator. */
export interface Asset {
  readonly name: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** The page's files, all in the package (`static/`): nothing is loaded from anywhere else. */
export const ASSET_FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
  "icon.svg": "image/svg+xml",
};

/**
 * What the page may do: its own scripts, styles and stream, nothing inline, nothing from elsewhere,
 * not framed. Should event data ever reach the DOM as markup, no script of it would run.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every file of the page. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};

const STATIC_DIR = new URL("../static/", import.meta.url);

/** Reads the page's files from the package; throws MissingAssetError when one is missing. */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(ASSET_FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(new URL(name, STATIC_DIR));
    } catch (error) {
      throw new MissingAssetError(name, { cause: error });
    }
    const etag = `"${createHash("sha1").update(body).digest("base64url").slice(0, 16)}"`;
    assets.set(name, { name, body, contentType, etag });
  }
  return assets;
}

/** True when the request's If-None-Match names the asset's current version. */
export function isFresh(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (typeof ifNoneMatch !== "string") return false;
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}
