import { randomUUID } from "node:crypto";

export { createApp, freePort, runApp, settlements, TcpProxy, UnitTestSource } from "@pump/core/testing";

/** A measurement name of its own for this run. */
export function unique(prefix: string): string {
  return `pump_influx_${prefix}_${randomUUID().slice(0, 8)}`;
}

/** Polls `condition` every `intervalMs`, at most `tries` times (a bound so a broken test cannot hang, never an expectation about speed). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 1500, intervalMs = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what} (${tries} checks)`);
}

export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Reads back through InfluxDB 1.x's `/query` (InfluxQL), independently of the package; times in nanoseconds. */
export class InfluxQL {
  readonly url: string;
  readonly database: string;

  constructor(url: string, bucket: string) {
    this.url = url.replace(/\/+$/, "");
    this.database = bucket.split("/")[0]!;
  }

  async query(q: string): Promise<Series[]> {
    const response = await fetch(`${this.url}/query?db=${encodeURIComponent(this.database)}&epoch=ns&q=${encodeURIComponent(q)}`);
    const body = (await response.json()) as { results?: { series?: Series[]; error?: string }[]; error?: string };
    const error = body.error ?? body.results?.[0]?.error;
    if (!response.ok || error !== undefined) throw new Error(`InfluxQL '${q}': ${error ?? response.status}`);
    return body.results?.[0]?.series ?? [];
  }

  /** The rows of a measurement as objects (column → value), oldest first. */
  async rows(measurement: string, where = ""): Promise<Record<string, unknown>[]> {
    const series = await this.query(`SELECT * FROM "${measurement}"${where === "" ? "" : ` WHERE ${where}`}`);
    return series.flatMap((s) => s.values.map((values) => Object.fromEntries(s.columns.map((column, i) => [column, values[i]]))));
  }

  async count(measurement: string): Promise<number> {
    return (await this.rows(measurement)).length;
  }

  async drop(...measurements: string[]): Promise<void> {
    for (const m of measurements) await this.query(`DROP MEASUREMENT "${m}"`).catch(() => {});
  }
}

