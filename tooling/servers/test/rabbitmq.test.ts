import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { expect, it } from "vitest";
import { describeWithServer } from "../vitest.js";

describeWithServer("rabbitmq (amqplib)", "AMQP_URL", (url) => {
  it("publishes with confirms and consumes with manual ack, redelivering a nacked message", async () => {
    const conn = await amqp.connect(url);
    const exchange = `pump.smoke.${randomUUID()}`;
    const queue = `${exchange}.q`;
    try {
      const pub = await conn.createConfirmChannel();
      await pub.assertExchange(exchange, "direct", { durable: false, autoDelete: true });
      await pub.assertQueue(queue, { durable: true });
      await pub.bindQueue(queue, exchange, "rk");
      const count = 500;
      for (let i = 0; i < count; i++) {
        pub.publish(exchange, "rk", Buffer.from(JSON.stringify({ i })), { persistent: true });
      }
      await pub.waitForConfirms();
      expect((await pub.checkQueue(queue)).messageCount).toBe(count);

      const sub = await conn.createChannel();
      await sub.prefetch(50);
      const seen = new Set<number>();
      let nacked = false;
      let redelivered = 0;
      await new Promise<void>((resolve, reject) => {
        sub
          .consume(queue, (msg) => {
            if (!msg) return reject(new Error("consumer cancelled"));
            const { i } = JSON.parse(msg.content.toString()) as { i: number };
            if (i === 42 && !nacked) {
              nacked = true;
              sub.nack(msg, false, true); // back to the queue, delivered again
              return;
            }
            if (msg.fields.redelivered) redelivered++;
            seen.add(i);
            sub.ack(msg);
            if (seen.size === count) resolve();
          })
          .catch(reject);
      });
      expect(redelivered).toBe(1);
      await sub.close();
      expect((await pub.checkQueue(queue)).messageCount).toBe(0);
      await pub.deleteQueue(queue);
      await pub.deleteExchange(exchange);
      await pub.close();
    } finally {
      await conn.close();
    }
  });
});
