import { planned } from "./planned.ts";

export const kafka = planned("kafka", "Kafka → pump → Kafka", "KAFKA_BROKERS");
