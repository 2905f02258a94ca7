import { readFileSync } from "node:fs";
import { Client, FTPError, type AccessOptions } from "basic-ftp";
import { Connection, ConfigError, type ComponentOptions, type ConfigValues, type PumpApplication } from "@pump/core";
import { FTPConnectionError } from "./errors.js";

/** Whether and how the control and data connections are encrypted. */
export type FTPSecurity = "no" | "yes" | "implicit";

/** System error codes that mean "the server is not there (yet), or went away": worth trying again. */
function systemCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns what basic-ftp threw while connecting or working into an FTPConnectionError: a refused
 * login (530), a TLS setup the server refuses (534, 431) or a server certificate that is not trusted
 * is permanent; anything else (refused, reset, timeout, 421 service not available) may pass.
 */
export function connectionError(what: string, error: unknown): FTPConnectionError {
  if (error instanceof FTPConnectionError) return error;
  if (error instanceof FTPError) {
    const permanent = error.code === 530 || error.code === 534 || error.code === 431 || error.code === 504;
    return new FTPConnectionError(`${what}: ${error.message}`, { cause: error, retriable: !permanent, reply: error.code });
  }
  const code = systemCode(error);
  const message = error instanceof Error ? error.message : String(error);
  // A certificate the client does not trust will not become trusted by trying again.
  const certificate = code !== undefined && (code.includes("CERT") || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_"));
  return new FTPConnectionError(`${what}: ${code !== undefined && !message.includes(code) ? `${code} ` : ""}${message}`, { cause: error, retriable: !certificate });
}

/**
 * An FTP or FTPS server (BSPump's FTPConnection), section `[connection:<Id>]`: `hostname`, `port`,
 * `username`, `password`, or all of them as one `url` (`ftp://user:password@host:port`, `ftps://` for
 * explicit TLS). `secure`: `no`, `yes` (explicit FTPS, AUTH TLS on the control connection, data
 * connections protected too) or `implicit` (TLS from the first byte, usually port 990);
 * `tls_verify = no` accepts any certificate, `tls_ca_file` adds a CA.
 *
 * Each component opens its own client with `open()` (an FTP control connection does one thing at a
 * time) and opens a new one when it broke: the connection reconnects per use, as BSPump's does.
 * Unlike BSPump, `port` is used (BSPump always connected to 21).
 */
export class FTPConnection extends Connection {
  static override ConfigDefaults: ConfigValues = {
    url: "", // ftp://user:password@host:port or ftps://...; fills the keys below
    hostname: "localhost",
    port: 21,
    username: "anonymous",
    password: "",
    secure: "no", // no | yes (explicit FTPS) | implicit
    tls_verify: "yes", // no: accept any server certificate
    tls_ca_file: "", // a PEM file with more CAs to trust
    timeout: 30, // seconds without an answer before a connection is given up
  };

  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly secure: FTPSecurity;
  readonly timeoutMs: number;
  readonly #password: string;
  readonly #tls: { rejectUnauthorized: boolean; ca?: Buffer };

  constructor(app: PumpApplication, id?: string | ComponentOptions, options: ComponentOptions = {}) {
    super(app, id, options);
    const config = this.config;
    const url = config.get("url").trim();
    let fromUrl: { hostname?: string; port?: number; username?: string; password?: string; secure?: FTPSecurity } = {};
    if (url !== "") {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch (error) {
        throw new ConfigError(`'${url.replace(/\/\/[^@/]*@/, "//***@")}' is not a URL`, { section: config.section, key: "url" }, "PUMP_CONFIG_VALUE", { cause: error });
      }
      if (parsed.protocol !== "ftp:" && parsed.protocol !== "ftps:") {
        throw new ConfigError(`expected an ftp:// or ftps:// URL, got '${parsed.protocol}'`, { section: config.section, key: "url" }, "PUMP_CONFIG_VALUE");
      }
      fromUrl = {
        hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
        ...(parsed.port === "" ? {} : { port: Number(parsed.port) }),
        ...(parsed.username === "" ? {} : { username: decodeURIComponent(parsed.username) }),
        ...(parsed.password === "" ? {} : { password: decodeURIComponent(parsed.password) }),
        ...(parsed.protocol === "ftps:" ? { secure: "yes" as const } : {}),
      };
    }
    this.hostname = fromUrl.hostname ?? config.get("hostname").trim();
    this.port = fromUrl.port ?? config.getInt("port");
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new ConfigError(`port must be 1 to 65535, got ${this.port}`, { section: config.section, key: "port" }, "PUMP_CONFIG_VALUE");
    }
    this.username = fromUrl.username ?? config.get("username");
    this.#password = fromUrl.password ?? config.get("password");
    const secure = fromUrl.secure ?? config.get("secure").trim().toLowerCase();
    if (secure === "no" || secure === "false" || secure === "") this.secure = "no";
    else if (secure === "yes" || secure === "true" || secure === "explicit") this.secure = "yes";
    else if (secure === "implicit") this.secure = "implicit";
    else throw new ConfigError(`must be no, yes (explicit FTPS) or implicit, got '${secure}'`, { section: config.section, key: "secure" }, "PUMP_CONFIG_VALUE");
    const caFile = config.get("tls_ca_file").trim();
    this.#tls = { rejectUnauthorized: config.getBool("tls_verify") };
    if (caFile !== "") {
      try {
        this.#tls.ca = readFileSync(caFile);
      } catch (error) {
        throw new ConfigError(`cannot read '${caFile}': ${(error as Error).message}`, { section: config.section, key: "tls_ca_file" }, "PUMP_CONFIG_VALUE", { cause: error });
      }
    }
    const timeout = config.getSeconds("timeout");
    if (!(timeout >= 0)) throw new ConfigError(`must be 0 or more seconds, got ${timeout}`, { section: config.section, key: "timeout" }, "PUMP_CONFIG_VALUE");
    this.timeoutMs = timeout * 1000;
  }

  /** What basic-ftp's `access()` is given (the password included: do not log it). */
  accessOptions(): AccessOptions {
    return {
      host: this.hostname,
      port: this.port,
      user: this.username,
      password: this.#password,
      secure: this.secure === "no" ? false : this.secure === "implicit" ? "implicit" : true,
      secureOptions: this.secure === "no" ? undefined : { ...this.#tls, servername: this.hostname },
    };
  }

  /** `ftp://user@host:port` (`ftps://` when secure), without the password: for logs. */
  get address(): string {
    return `${this.secure === "no" ? "ftp" : "ftps"}://${encodeURIComponent(this.username)}@${this.hostname}:${this.port}`;
  }

  override acquire(): FTPConnection {
    return this;
  }

  /**
   * A new client, connected and logged in. Rejects with an FTPConnectionError (`retriable` tells
   * whether trying again may help). The caller closes it.
   */
  async open(): Promise<Client> {
    const client = new Client(this.timeoutMs);
    try {
      await client.access(this.accessOptions());
      return client;
    } catch (error) {
      client.close();
      throw connectionError(`Cannot connect to ${this.address}`, error);
    }
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Address: this.address, Secure: this.secure };
  }
}
