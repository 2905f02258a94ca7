import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** The most a request body may have unless a handler asks for more (`request.body(limit)`). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Thrown by a handler to answer with a status: the client gets `{"error": message}` (the message is
 * meant to be shown: no internals in it). Any other exception is a 500 whose details are only logged.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`HttpError status must be 4xx or 5xx, not ${status}`);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

/**
 * What a handler may return besides a plain value (sent as JSON, status 200) or `undefined` (204,
 * unless the handler wrote the response itself, e.g. a Server-Sent Events stream).
 */
export class WebResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as it is; undefined sends no body. */
  readonly body: string | Uint8Array | undefined;
  /** Set by `WebResponse.json`: the value, serialized when sent (indented with `?pretty`). */
  readonly json: { readonly value: unknown } | undefined;

  constructor(status: number, body?: string | Uint8Array, headers: Record<string, string> = {}, json?: { value: unknown }) {
    this.status = status;
    this.body = body;
    this.headers = headers;
    this.json = json;
  }

  static json(value: unknown, status = 200, headers: Record<string, string> = {}): WebResponse {
    return new WebResponse(status, undefined, headers, { value });
  }

  static text(text: string, status = 200, contentType = "text/plain; charset=utf-8", headers: Record<string, string> = {}): WebResponse {
    return new WebResponse(status, text, { ...headers, "content-type": contentType });
  }
}

/** One request as a handler sees it: the matched route's params, the query, the raw request and response. */
export class WebRequest {
  readonly method: string;
  /** The decoded path. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Node's request; for headers, streaming bodies. */
  readonly raw: IncomingMessage;
  /** Node's response; a handler that writes it itself (a stream) returns undefined. */
  readonly response: ServerResponse;
  #body: Promise<Buffer> | undefined;

  constructor(raw: IncomingMessage, response: ServerResponse, method: string, path: string, params: Record<string, string>, query: URLSearchParams) {
    this.raw = raw;
    this.response = response;
    this.method = method;
    this.path = path;
    this.params = params;
    this.query = query;
  }

  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  /** The body, at most `limit` bytes (413 beyond). */
  body(limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
    return (this.#body ??= readBody(this.raw, limit));
  }

  /** The body as JSON; 400 when it is not JSON, 415 when it is sent as another type. */
  async json(limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
    const type = this.raw.headers["content-type"];
    if (type !== undefined && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) throw new HttpError(415, "Expected a JSON body (content-type: application/json)");
    const text = (await this.body(limit)).toString("utf8");
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, "The body is not valid JSON");
    }
  }
}

function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(raw.headers["content-length"]);
  if (declared > limit) return Promise.reject(new HttpError(413, `The body is larger than ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    raw.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        raw.removeAllListeners("data");
        raw.resume();
        reject(new HttpError(413, `The body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    raw.once("end", () => resolve(Buffer.concat(chunks)));
    raw.once("error", reject);
  });
}
