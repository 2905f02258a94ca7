import { planned } from "./planned.ts";

export const amqpPublish = planned("amqp-publish", "pump → RabbitMQ", "AMQP_URL");
export const amqpConsume = planned("amqp-consume", "RabbitMQ → pump", "AMQP_URL");
