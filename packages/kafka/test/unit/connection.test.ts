import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@pump/core";
import { describe, expect, it } from "vitest";
import { KafkaConnection, type KafkaClient, type KafkaClientSettings } from "../../src/index.js";
import { createApp } from "../helpers.js";
import { FakeClient } from "../fake-client.js";

/** Keeps the settings the connection hands its client. */
class Inspected extends KafkaConnection {
  settings: KafkaClientSettings | undefined;
  protected override createClient(settings: KafkaClientSettings): KafkaClient {
    this.settings = settings;
    return new FakeClient();
  }
}

function settingsOf(conf: string, id = "KafkaConnection"): KafkaClientSettings {
  const app = createApp(conf);
  const connection = new Inspected(app, id);
  connection.acquire();
  return connection.settings!;
}

describe("KafkaConnection configuration", () => {
  it("reads bootstrap_servers (comma or space separated) and client_id from its section", () => {
    const s = settingsOf("[connection:KafkaConnection]\nbootstrap_servers=a:9092, b:9093 c:9094\nclient_id=my-pump\n");
    expect(s.brokers).toEqual(["a:9092", "b:9093", "c:9094"]);
    expect(s.clientId).toBe("my-pump");
    expect(s.ssl).toBe(false);
    expect(s.sasl).toBeUndefined();
  });

  it("falls back to the [kafka] section when its own has no bootstrap_servers (as BSPump)", () => {
    const s = settingsOf("[kafka]\nbootstrap_servers=k1:9092\nclient_id=from-kafka-section\n");
    expect(s.brokers).toEqual(["k1:9092"]);
    expect(s.clientId).toBe("from-kafka-section");
  });

  it("takes librdkafka's dotted spellings too", () => {
    const s = settingsOf("[connection:K]\nbootstrap.servers=d:1\nclient.id=dotted\nrequest.timeout.ms=1234\n", "K");
    expect(s.brokers).toEqual(["d:1"]);
    expect(s.clientId).toBe("dotted");
    expect(s.requestTimeoutMs).toBe(1234);
  });

  it("says which key is missing when there are no brokers", () => {
    const app = createApp("[connection:KafkaConnection]\nclient_id=x\n");
    expect(() => new KafkaConnection(app, "KafkaConnection")).toThrow(ConfigError);
    expect(() => new KafkaConnection(app, "KafkaConnection")).toThrow(/bootstrap_servers/);
  });

  it("SASL PLAIN and SCRAM with user and password (BSPump's sasl_plain_* names accepted)", () => {
    const plain = settingsOf("[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=SASL_PLAINTEXT\nsasl_plain_username=u\nsasl_plain_password=p\n");
    expect(plain.sasl).toEqual({ mechanism: "plain", username: "u", password: "p" });
    expect(plain.ssl).toBe(false);
    process.env.PUMP_KAFKA_TEST_SECRET = "s3cret";
    const scram = settingsOf("[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=SASL_SSL\nsasl_mechanism=SCRAM-SHA-512\nsasl_username=u\nsasl_password=${PUMP_KAFKA_TEST_SECRET}\n");
    delete process.env.PUMP_KAFKA_TEST_SECRET;
    expect(scram.sasl).toEqual({ mechanism: "scram-sha-512", username: "u", password: "s3cret" });
    expect(scram.ssl).toEqual({ rejectUnauthorized: true });
  });

  it("refuses SASL mechanisms the client lacks, and SASL without a user", () => {
    expect(() => settingsOf("[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=SASL_SSL\nsasl_mechanism=GSSAPI\nsasl_username=u\n")).toThrow(/GSSAPI is not supported/);
    expect(() => settingsOf("[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=SASL_SSL\n")).toThrow(/needs a user name/);
    expect(() => settingsOf("[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=TLS\n")).toThrow(/security_protocol/);
  });

  it("SSL reads the CA, certificate and key files it is given", () => {
    const dir = mkdtempSync(join(tmpdir(), "pump-kafka-ssl-"));
    writeFileSync(join(dir, "ca.pem"), "CA");
    writeFileSync(join(dir, "cert.pem"), "CERT");
    writeFileSync(join(dir, "key.pem"), "KEY");
    const s = settingsOf(
      `[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=SSL\nssl_ca_location=${dir}/ca.pem\nssl_certificate_location=${dir}/cert.pem\nssl_key_location=${dir}/key.pem\nssl_key_password=pw\nenable_ssl_certificate_verification=false\n`,
    );
    expect(s.ssl).toEqual({ ca: Buffer.from("CA"), cert: Buffer.from("CERT"), key: Buffer.from("KEY"), passphrase: "pw", rejectUnauthorized: false });
    expect(() => settingsOf(`[connection:KafkaConnection]\nbootstrap_servers=a:1\nsecurity_protocol=SSL\nssl_ca_location=${dir}/missing.pem\n`)).toThrow(/ssl_ca_location/);
  });

  it("compression_type is one of none, gzip, snappy, lz4, zstd", () => {
    const app = createApp("[connection:KafkaConnection]\nbootstrap_servers=a:1\ncompression_type=GZIP\n");
    expect(new KafkaConnection(app, "KafkaConnection").compression).toBe("gzip");
    const bad = createApp("[connection:KafkaConnection]\nbootstrap_servers=a:1\ncompression_type=brotli\n");
    expect(() => new KafkaConnection(bad, "KafkaConnection")).toThrow(/compression_type/);
  });

  it("connect() needs no broker", async () => {
    const app = createApp("[connection:KafkaConnection]\nbootstrap_servers=127.0.0.1:1\n");
    const connection = new KafkaConnection(app, "KafkaConnection");
    await connection.connect();
    await connection.topicsReady();
    await connection.disconnect();
  });
});
