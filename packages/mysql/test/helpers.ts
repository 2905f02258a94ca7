import { randomUUID } from "node:crypto";
import mysql, { type Connection, type QueryValues, type RowDataPacket } from "mysql2/promise";

export { createApp, freePort, runApp, settlements, TcpProxy, UnitTestSink, UnitTestSource } from "@pump/core/testing";

/** A name of its own for this run. */
export function unique(prefix: string): string {
  return `pump_mysql_${prefix}_${randomUUID().slice(0, 8)}`;
}

/** Polls `condition` every `intervalMs`, at most `tries` times (a bound so a broken test cannot hang, never an expectation about speed). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1500, intervalMs = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

/** A database of its own for a suite, made and dropped with the test's own mysql2 connection. */
export class TestDatabase {
  readonly name = unique("db");
  readonly #serverUrl: string;
  #connection: Connection | undefined;

  constructor(serverUrl: string) {
    this.#serverUrl = serverUrl;
  }

  /** The server URL pointing at this database. */
  get url(): string {
    const url = new URL(this.#serverUrl);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  async create(): Promise<this> {
    const connection = await this.#connect();
    await connection.query(`CREATE DATABASE \`${this.name}\``);
    await connection.query(`USE \`${this.name}\``);
    return this;
  }

  async query<T = RowDataPacket[]>(sql: string, values?: QueryValues): Promise<T> {
    const [rows] = await (await this.#connect()).query({ sql, values });
    return rows as T;
  }

  async count(table: string): Promise<number> {
    const rows = await this.query<{ n: number }[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]!.n);
  }

  async drop(): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined) return;
    await connection.query(`DROP DATABASE IF EXISTS \`${this.name}\``);
    await connection.end();
    this.#connection = undefined;
  }

  async #connect(): Promise<Connection> {
    this.#connection ??= await mysql.createConnection({ uri: this.#serverUrl, supportBigNumbers: true });
    return this.#connection;
  }
}

