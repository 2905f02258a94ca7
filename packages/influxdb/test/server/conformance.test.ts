// The conformance kit of @pump/core/testing against InfluxDBSink and the rig's InfluxDB: the contract
// every sink keeps (settle after the server stored, retry through an outage, throttle, flush on stop,
// report refused points), each case on a measurement of its own, the outage played by a TCP proxy.
import { sinkConformance } from "@pump/core/testing";
import { influxSettings } from "@pump/test-servers";
import { describeWithServer } from "@pump/test-servers/vitest";
import { it } from "vitest";
import { InfluxDBConnection, InfluxDBSink, type InfluxPoint } from "../../src/index.js";
import { InfluxQL, TcpProxy, unique } from "../helpers.js";

describeWithServer("InfluxDBSink keeps the sink contract (conformance kit)", "INFLUX_URL", (serverUrl) => {
  const { bucket, org, token } = influxSettings();
  const influx = new InfluxQL(serverUrl, bucket);

  const cases = sinkConformance<InfluxPoint>({
    name: "InfluxDBSink",
    // watermark.high below: 200 points, and a batch more
    capacity: 300,
    setUp: async () => {
      const measurement = unique("conformance");
      const { proxy, url } = await TcpProxy.to(serverUrl, 8086);
      await proxy.open();
      return {
        create: (app, pipeline) => {
          const connection = new InfluxDBConnection(app, "InfluxDBConnection", { config: { url, bucket, org, token, timeout: 2 } });
          app.pumpService.addConnection(connection);
          const config = { batch_size: 50, flush_interval: 0.05, "watermark.high": 200, "watermark.low": 100, retry_delay: 0.1, retry_delay_max: 0.5 };
          return new InfluxDBSink(app, pipeline, connection, { config });
        },
        event: (i) => ({ measurement, tags: { n: String(i) }, fields: { v: i + 0.5 }, time: BigInt(i + 1) }),
        // a string where the measurement's field is a float: a field type conflict, refused for good
        rejected: (i) => ({ measurement, tags: { n: String(i) }, fields: { v: "text" }, time: BigInt(i + 1) }),
        stored: () => influx.count(measurement),
        outage: () => proxy.outage(),
        tearDown: async () => {
          await proxy.close();
          await influx.drop(measurement);
        },
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});
