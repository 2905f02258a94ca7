import { randomUUID } from "node:crypto";
import mysql, { type RowDataPacket } from "mysql2/promise";
import { expect, it } from "vitest";
import { describeWithServer } from "../vitest.js";

describeWithServer("mariadb (mysql2)", "MYSQL_URL", (url) => {
  it("inserts rows in a batch and selects them back", async () => {
    const conn = await mysql.createConnection(url);
    const table = `pump_smoke_${randomUUID().replaceAll("-", "")}`;
    try {
      const [[version]] = await conn.query<RowDataPacket[]>("SELECT VERSION() AS v");
      expect(String(version!.v)).toMatch(/MariaDB|^\d+\./);
      await conn.query(
        `CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, val DOUBLE, ts DATETIME(3)) ENGINE=InnoDB`,
      );
      const rows = Array.from({ length: 1000 }, (_, i) => [i, `row-${i}`, i / 2, new Date(Date.UTC(2024, 0, 1, 0, 0, i))]);
      const [result] = await conn.query(`INSERT INTO ${table} (id, name, val, ts) VALUES ?`, [rows]);
      expect((result as { affectedRows: number }).affectedRows).toBe(1000);

      const [[sum]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n, SUM(val) AS s FROM ${table}`);
      expect(Number(sum!.n)).toBe(1000);
      expect(Number(sum!.s)).toBe(249750);
      const [some] = await conn.execute<RowDataPacket[]>(`SELECT id, name FROM ${table} WHERE id IN (?, ?) ORDER BY id`, [7, 999]);
      expect(some.map((r) => [r.id, r.name])).toEqual([
        [7, "row-7"],
        [999, "row-999"],
      ]);
      // a suite may create a database of its own
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${table}`);
      await conn.query(`DROP DATABASE ${table}`);
    } finally {
      await conn.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await conn.end();
    }
  });
});
