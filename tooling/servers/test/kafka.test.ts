import { randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { expect, it } from "vitest";
import { kafkaBrokers } from "../index.js";
import { describeWithServer } from "../vitest.js";

describeWithServer("kafka (kafkajs)", "KAFKA_BROKERS", (brokers) => {
  it("creates a topic, produces keyed messages idempotently and consumes them in a group", async () => {
    const kafka = new Kafka({ clientId: "pump-smoke", brokers: kafkaBrokers(brokers), logLevel: logLevel.NOTHING });
    const topic = `pump-smoke-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

      const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const sent = Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 7}`, value: `message ${i}` }));
      await producer.send({ topic, messages: sent });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
      await consumer.connect();
      const received: string[] = [];
      const partitions = new Set<number>();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachMessage: async ({ partition, message }) => {
                partitions.add(partition);
                received.push(message.value?.toString() ?? "");
                if (received.length === sent.length) resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      expect(received.toSorted()).toEqual(sent.map((m) => m.value).toSorted());
      expect(partitions.size).toBeGreaterThan(1);
      const offsets = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
      const committed = offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
      expect(committed).toBe(sent.length);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});
