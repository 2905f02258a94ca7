import { AsyncLookup, ConfigError, type ConfigValues, type Connection, type LookupOptions, type PumpApplication } from "@pump/core";
import type { RowDataPacket } from "mysql2/promise";
import { MySQLConnection } from "./connection.js";
import { MySQLQueryError } from "./errors.js";
import type { MySQLRow } from "./source.js";

/** Fills `{}` placeholders in order, as Python's `str.format` does with positional arguments. */
function fill(template: string, ...parts: string[]): string {
  let i = 0;
  return template.replaceAll("{}", () => parts[i++] ?? "{}");
}

/**
 * A lookup of rows in a MySQL table (BSPump's MySQLLookup): `await lookup.get(key)` resolves the row
 * whose `key` column equals `key` (`{column: value}`, the columns of `statement`), or undefined. Use
 * it from an async processor or a generator.
 *
 * Built on core's `AsyncLookup`: answers are cached (`cache_size` keys, least recently used out first,
 * each for `cache_ttl` seconds; a key with no row for `cache_miss_ttl` seconds), concurrent gets of one
 * key share one query, and a failed query (a `MySQLQueryError`) is not cached. `from` may be a table or
 * a join (`Orders INNER JOIN Customers ON ...`); `statement`, `from` and `key` are put into the query
 * as they are (they come from the configuration, not from events; the key's value is a parameter).
 *
 * `load()` (at start, unless the lookup is lazy) counts the rows (`count`), as BSPump does; a server
 * that cannot be reached then is logged, not fatal: rows are fetched key by key anyway.
 */
export class MySQLLookup extends AsyncLookup<unknown, MySQLRow> {
  static override ConfigDefaults: ConfigValues = {
    statement: "*",
    from: "",
    key: "",
    query_find_one: "SELECT {} FROM {} WHERE {} = ? LIMIT 1",
    query_count: "SELECT COUNT(*) AS count FROM {}",
  };

  readonly connection: MySQLConnection;
  /** The query `get()` runs, with one `?` for the key. */
  readonly queryFindOne: string;
  readonly queryCount: string;
  /** Rows counted by the last `load()`; -1 before (or when the count failed). */
  count = -1;

  constructor(app: PumpApplication, connection: string | MySQLConnection, options: LookupOptions = {}) {
    super(app, options);
    const located: Connection = app.pumpService.locateConnection(connection);
    if (!(located instanceof MySQLConnection)) throw new TypeError(`MySQLLookup '${this.id}': connection '${located.id}' is not a MySQLConnection`);
    this.connection = located;
    const c = this.config;
    const from = c.get("from").trim();
    const key = c.get("key").trim();
    if (from === "") throw new ConfigError("the table (or join) to look in is not set", { section: c.section, key: "from" }, "PUMP_CONFIG_MISSING");
    if (key === "") throw new ConfigError("the key column is not set", { section: c.section, key: "key" }, "PUMP_CONFIG_MISSING");
    // BSPump's templates use pymysql's %s; mysql2 takes ?.
    this.queryFindOne = fill(c.get("query_find_one"), c.get("statement").trim(), from, key).replaceAll("%s", "?");
    this.queryCount = fill(c.get("query_count"), from);
    if (!this.queryFindOne.includes("?")) {
      throw new ConfigError("the query has no placeholder (? or %s) for the key", { section: c.section, key: "query_find_one" }, "PUMP_CONFIG_VALUE");
    }
  }

  protected async fetch(key: unknown): Promise<MySQLRow | undefined> {
    let rows: RowDataPacket[];
    try {
      [rows] = await this.connection.acquire().query<RowDataPacket[]>(this.queryFindOne, [key]);
    } catch (error) {
      throw new MySQLQueryError(`lookup '${this.id}' failed for key ${JSON.stringify(key)}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    const row = rows[0];
    return row === undefined ? undefined : { ...row };
  }

  /** Counts the rows (BSPump's load); never changes the data, so never reports a change. */
  override async load(): Promise<boolean> {
    try {
      const [rows] = await this.connection.acquire().query<RowDataPacket[]>(this.queryCount);
      this.count = Number(rows[0]?.count ?? Object.values(rows[0] ?? {})[0] ?? -1);
    } catch (error) {
      this.count = -1;
      this.log.warn("Cannot count the lookup's rows; rows are still fetched key by key", { error });
    }
    return false;
  }

  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), Count: this.count, Query: this.queryFindOne };
  }
}
