import { randomUUID } from "node:crypto";
import { createClient } from "@redis/client";
import { expect, it } from "vitest";
import { describeWithServer } from "../vitest.js";

describeWithServer("redis (@redis/client)", "REDIS_URL", (url) => {
  it("pushes 1000 elements, moves them one by one into another list with BLMOVE, and removes one with LREM", async () => {
    const client = createClient({ url });
    await client.connect();
    const [list, processing] = [`pump-smoke-${randomUUID()}`, `pump-smoke-${randomUUID()}`];
    try {
      const values = Array.from({ length: 1000 }, (_, i) => `v${i}`);
      expect(await client.rPush(list, values)).toBe(1000);
      for (let i = 0; i < 1000; i++) expect(await client.blMove(list, processing, "LEFT", "RIGHT", 1)).toBe(values[i]);
      expect(await client.blMove(list, processing, "LEFT", "RIGHT", 0.1)).toBeNull();
      expect(await client.lRem(processing, 1, "v500")).toBe(1);
      expect(await client.lLen(processing)).toBe(999);
    } finally {
      await client.del([list, processing]);
      await client.close();
    }
  });
});
