import { randomUUID } from "node:crypto";
import { InfluxDB, Point } from "@influxdata/influxdb-client";
import { expect, it, vi } from "vitest";
import { influxSettings } from "../index.js";
import { describeWithServer } from "../vitest.js";

describeWithServer("influxdb (@influxdata/influxdb-client)", "INFLUX_URL", (url) => {
  it("writes points through the v2 write API and reads them back (InfluxQL and Flux)", async () => {
    const { token, org, bucket } = influxSettings();
    const influx = new InfluxDB({ url, token });
    const measurement = `pump_smoke_${randomUUID().replaceAll("-", "")}`;
    const count = 1000;
    // close()/flush() do not await batches sent because the buffer filled up: count acknowledged lines
    let acked = 0;
    let failed: Error | undefined;
    const writeApi = influx.getWriteApi(org, bucket, "ms", {
      batchSize: 400,
      maxRetries: 0,
      writeSuccess: (lines) => {
        acked += lines.length;
      },
      writeFailed: (error) => {
        failed = error;
      },
    });
    const base = Date.now() - count * 1000;
    for (let i = 0; i < count; i++) {
      writeApi.writePoint(
        new Point(measurement)
          .tag("host", `h${i % 4}`)
          .intField("i", i)
          .floatField("v", i / 2)
          .timestamp(new Date(base + i * 1000)),
      );
    }
    await writeApi.close();
    await vi.waitFor(() => expect(failed ?? acked).toBe(count), { timeout: 10_000, interval: 10 });
    expect(failed).toBeUndefined();
    expect(acked).toBe(count);

    const [database, retention] = bucket.split("/");
    const influxql = async (q: string) => {
      const params = new URLSearchParams({ db: database!, rp: retention ?? "autogen", q });
      const res = await fetch(`${url}/query?${params}`, { headers: { Authorization: `Token ${token}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
    };
    try {
      const totals = await influxql(`SELECT count(i), sum(i) FROM "${measurement}"`);
      expect(totals.results[0]!.series![0]!.values[0]!.slice(1)).toEqual([count, (count * (count - 1)) / 2]);

      const rows = await influx
        .getQueryApi(org)
        .collectRows<{ host: string; _value: number }>(
          `from(bucket: "${bucket}") |> range(start: -1d) ` +
            `|> filter(fn: (r) => r._measurement == "${measurement}" and r._field == "i") |> count()`,
        );
      // oxlint-disable-next-line no-underscore-dangle -- the API's field name
      expect(rows.map((r) => [r.host, r._value]).toSorted()).toEqual([
        ["h0", 250],
        ["h1", 250],
        ["h2", 250],
        ["h3", 250],
      ]);
    } finally {
      await influxql(`DROP MEASUREMENT "${measurement}"`).catch(() => {});
    }
  });
});
