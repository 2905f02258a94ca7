// The "Custom Components" guide of the BSPump docs, in TypeScript, with the same shape: a polling
// source, a cron-triggered source, an enrichment processor with a cache, a splitting generator, a
// webhook sink and a custom connection, each configured from its own .conf section.
import {
  Connection,
  Generator,
  Processor,
  Sink,
  Source,
  TriggerSource,
  type ComponentOptions,
  type Context,
  type PumpApplication,
  type Pipeline,
} from "../../src/index.js";

type Item = Record<string, unknown>;

/** Source that polls an external API. */
export class MySource extends Source<Item> {
  readonly url: string;
  readonly pollInterval: number;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.url = this.config.get("url");
    this.pollInterval = this.config.getFloat("poll_interval", 60);
  }

  async main(): Promise<void> {
    for (;;) {
      try {
        const events = await this.fetchEvents();
        for (const event of events) {
          await this.pipeline.ready();
          await this.process(event);
        }
      } catch (error) {
        if (this.signal.aborted) throw error;
        this.log.error("Error fetching events", { error });
      }
      await this.sleep(this.pollInterval);
    }
  }

  async fetchEvents(): Promise<Item[]> {
    const response = await fetch(this.url, { signal: this.signal });
    return (await response.json()) as Item[];
  }
}

/** Source that runs on a schedule. */
export class ScheduledSource extends TriggerSource<Item> {
  async cycle(): Promise<void> {
    await this.pipeline.ready();
    const events = await this.generateEvents();
    for (const event of events) await this.process(event);
  }

  async generateEvents(): Promise<Item[]> {
    return [{ timestamp: new Date().toISOString(), items: [{ key: "scheduled" }] }];
  }
}

/** Enriches events with external data. */
export class EnrichmentProcessor extends Processor<Item, Item> {
  readonly lookupUrl: string;
  readonly cache = new Map<string, unknown>();
  fetches = 0;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.lookupUrl = this.config.get("lookup_url");
  }

  async process(_context: Context, event: Item): Promise<Item> {
    const key = String(event.key);
    if (this.cache.has(key)) {
      event.enrichment = this.cache.get(key);
    } else {
      const enrichment = await this.fetchEnrichment(key);
      this.cache.set(key, enrichment);
      event.enrichment = enrichment;
    }
    return event;
  }

  async fetchEnrichment(key: string): Promise<unknown> {
    this.fetches++;
    const response = await fetch(`${this.lookupUrl}?key=${encodeURIComponent(key)}`);
    return response.json();
  }
}

/** Splits batch events into individual events. */
export class SplitGenerator extends Generator<Item, Item> {
  generate(context: Context, event: Item, depth: number): void {
    const items = (event.items as Item[] | undefined) ?? [];
    for (const item of items) this.pipeline.inject(context, item, depth);
  }
}

/** Sends events to a webhook endpoint. */
export class WebhookSink extends Sink<Item> {
  readonly url: string;

  constructor(app: PumpApplication, pipeline: Pipeline, options?: ComponentOptions) {
    super(app, pipeline, options);
    this.url = this.config.get("url");
  }

  async process(_context: Context, event: Item): Promise<void> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status >= 400) {
      this.log.error("Webhook failed", { status: response.status });
      throw new Error(`Webhook answered ${response.status}`);
    }
  }
}

/** What MyServiceConnection hands out: a client bound to the service with its token. */
export interface MyServiceClient {
  get(path: string): Promise<unknown>;
  close(): Promise<void>;
}

async function createClient(host: string, port: number, authToken: string): Promise<MyServiceClient> {
  const base = `http://${host}:${port}`;
  const headers = { authorization: `Bearer ${authToken}` };
  const hello = await fetch(`${base}/hello`, { headers });
  if (!hello.ok) throw new Error(`service refused the token (${hello.status})`);
  return {
    get: async (path) => (await fetch(`${base}${path}`, { headers })).json(),
    close: async () => {},
  };
}

/** Connection to a custom service. */
export class MyServiceConnection extends Connection {
  client: MyServiceClient | undefined;

  override async connect(): Promise<void> {
    this.client = await createClient(this.config.get("host"), this.config.getInt("port"), this.config.get("auth_token"));
  }

  override async disconnect(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  override acquire(): MyServiceClient {
    if (this.client === undefined) throw new Error("MyServiceConnection is not connected");
    return this.client;
  }
}
