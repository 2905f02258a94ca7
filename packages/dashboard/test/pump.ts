// The pump the tests watch: two linked pipelines, a lookup and a connection.
//
//   Orders:   OrdersSource → Validate → ToShipping (RouterSink) ──route──▶ Shipping.*InternalSource
//   Shipping: InternalSource → Enrich → SlowSink (buffers; throttles while its "server" stalls)
import {
  ConfigFile,
  Connection,
  DictionaryLookup,
  InternalSource,
  Pipeline,
  Processor,
  PumpApplication,
  RouterSink,
  Sink,
  Source,
  type Context,
} from "@pump/core";

export interface Order {
  id: number;
  note: string;
}

/** What a test puts in an event and its context to check the page shows it as text. */
export const HOSTILE = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`;

/** Makes orders in batches until stopped; `poison` goes into the next batch. */
export class OrdersSource extends Source<Order> {
  poison: { event: Order; context: Context } | undefined;
  #next = 1;

  async main(): Promise<void> {
    for (;;) {
      await this.pipeline.ready();
      const events: Order[] = [];
      const contexts: Context[] = [];
      for (let i = 0; i < 5; i++) {
        events.push({ id: this.#next++, note: "tea" });
        contexts.push({ customer: "c-42" });
      }
      const poison = this.poison;
      this.poison = undefined;
      if (poison !== undefined) {
        events.push(poison.event);
        contexts.push(poison.context);
      }
      await this.processBatch(events, contexts);
      await this.sleep(0.01);
    }
  }
}

export class ValidationError extends Error {
  readonly code = "ORDER_INVALID";
  override name = "ValidationError";
}

/** A hard error for an order whose note is not tea. */
export class Validate extends Processor<Order, Order> {
  process(_context: Context, order: Order): Order {
    if (order.note !== "tea") throw new ValidationError(`order ${order.id} has an unknown note: ${order.note}`);
    return order;
  }
}

export class ToShipping extends RouterSink<Order> {
  process(context: Context, order: Order): void {
    this.route(context, order, "Shipping.*InternalSource");
  }
}

export class Enrich extends Processor<Order, Order & { carrier: string }> {
  process(_context: Context, order: Order): Order & { carrier: string } {
    const carrier = this.app.pumpService.locateLookup<DictionaryLookup<string>>("Carriers").get("tea") ?? "?";
    return { ...order, carrier };
  }
}

/**
 * Buffers what it takes and flushes it to a pretend server every 10 ms. While the server stalls
 * the buffer fills; at `high` events it throttles the pipeline until the server takes them again.
 */
export class SlowSink extends Sink<Order> {
  readonly high = 50;
  buffered = 0;
  delivered = 0;
  stalled = false;
  #holding = false;
  #timer: NodeJS.Timeout | undefined;

  override start(): void {
    this.#timer = setInterval(() => this.#flush(), 10);
  }

  override stop(): void {
    clearInterval(this.#timer);
    this.#flush();
  }

  process(): void {
    this.buffered++;
    if (this.buffered >= this.high && !this.#holding) {
      this.#holding = true;
      this.pipeline.throttle(this, true);
    }
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
  }

  #flush(): void {
    if (this.stalled) return;
    this.delivered += this.buffered;
    this.buffered = 0;
    if (this.#holding) {
      this.#holding = false;
      this.pipeline.throttle(this, false);
    }
  }
}

/** A connection that reports a state in `restGet()`, as a connector may. */
export class WarehouseConnection extends Connection {
  override restGet(): Record<string, unknown> {
    return { ...super.restGet(), State: "connected", Reconnects: 0 };
  }
}

export interface TestPump {
  app: PumpApplication;
  orders: Pipeline;
  shipping: Pipeline;
  source: OrdersSource;
  sink: SlowSink;
}

/** The pump, not running; `conf` is the text of a `.conf` file (e.g. `[web] listen=127.0.0.1:0`). */
export function createPump(conf = ""): TestPump {
  const app = new PumpApplication({ args: [], config: ConfigFile.parse(conf) });
  const service = app.pumpService;
  service.addConnection(new WarehouseConnection(app, "WarehouseConnection"));
  const carriers = service.addLookup(new DictionaryLookup<string>(app, "Carriers"));
  carriers.set({ tea: "DHL", cake: "UPS", coffee: "DPD" });

  const shipping = new Pipeline(app, "Shipping");
  const sink = new SlowSink(app, shipping);
  shipping.build(new InternalSource<Order>(app, shipping, { config: { queue_max_size: 200 } }), new Enrich(app, shipping), sink);

  const orders = new Pipeline(app, "Orders");
  const source = new OrdersSource(app, orders);
  orders.build(source, new Validate(app, orders), new ToShipping(app, orders));

  service.addPipelines(orders, shipping);
  return { app, orders, shipping, source, sink };
}

/** Waits until `check()` is true, looking every 10 ms (no time limit: the test's own timeout guards). */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}
