// The conformance kit of @pump/core/testing against MySQLSink and the rig's MariaDB: the contract
// every sink keeps (settle after the server stored, retry through an outage, throttle, flush on stop,
// report refused rows), each case on a table of its own, the outage played by a TCP proxy.
import { sinkConformance } from "@pump/core/testing";
import { describeWithServer } from "@pump/test-servers/vitest";
import { afterAll, beforeAll, it } from "vitest";
import { MySQLConnection, MySQLSink } from "../../src/index.js";
import { TcpProxy, TestDatabase, unique } from "../helpers.js";

describeWithServer("MySQLSink keeps the sink contract (conformance kit)", "MYSQL_URL", (serverUrl) => {
  const db = new TestDatabase(serverUrl);
  beforeAll(() => db.create());
  afterAll(() => db.drop());

  const cases = sinkConformance<{ id: number; name: string | null }>({
    name: "MySQLSink",
    // watermark.high below: 200 rows, and a batch more
    capacity: 300,
    setUp: async () => {
      const table = unique("conformance").replaceAll("-", "_");
      await db.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL)`);
      const { proxy, url } = await TcpProxy.to(db.url, 3306);
      await proxy.open();
      return {
        create: (app, pipeline) => {
          const connection = new MySQLConnection(app, "MySQLConnection", { config: { url, connect_timeout: 2 } });
          app.pumpService.addConnection(connection);
          const config = { table, columns: "id,name", batch_size: 50, flush_interval: 0.05, "watermark.high": 200, "watermark.low": 100, retry_delay: 0.1, retry_delay_max: 0.5 };
          return new MySQLSink(app, pipeline, connection, { config });
        },
        event: (i) => ({ id: i, name: `n${i}` }),
        // NULL in a NOT NULL column: refused for good
        rejected: (i) => ({ id: i, name: null }),
        stored: () => db.count(table),
        outage: () => proxy.outage(),
        tearDown: async () => {
          await proxy.close();
          await db.query(`DROP TABLE IF EXISTS \`${table}\``);
        },
      };
    },
  });
  for (const c of cases) it(c.name, c.run);
});
