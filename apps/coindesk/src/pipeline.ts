// BSPump's "Coindesk API Example", in TypeScript: the Bitcoin price from the Coindesk API every
// 5 seconds, parsed from JSON, enriched with the price in Japanese yen, and printed.
import { PeriodicTrigger, Pipeline, PPrintSink, Processor, StdJsonToDictParser, type Context, type PumpApplication } from "@pump/core";
import { HTTPClientSource } from "@pump/http";

/** One currency of the answer, as Coindesk writes it. */
export interface Currency {
  code: string;
  symbol: string;
  /** The rate as text: "37,789.6250". */
  rate: string;
  description: string;
  rate_float: number;
}

/** The answer of https://api.coindesk.com/v1/bpi/currentprice.json (see fixtures/currentprice). */
export interface CurrentPrice {
  time: { updated: string; updatedISO: string; updateduk: string };
  disclaimer: string;
  chartName: string;
  bpi: Record<string, Currency>;
}

/** The tutorial's own processor: adds the price in yen beside USD, GBP and EUR. */
export class EnrichProcessor extends Processor<CurrentPrice, CurrentPrice> {
  convertUSDtoJPY(usd: number): number {
    return usd * 113.7; // outdated rate usd/jpy
  }

  process(_context: Context, event: CurrentPrice): CurrentPrice {
    const usd = event.bpi.USD;
    if (usd === undefined) throw new Error("the answer has no USD rate");
    const jpyPrice = this.convertUSDtoJPY(usd.rate_float);
    event.bpi.JPY = {
      code: "JPY",
      symbol: "¥",
      // Written as Coindesk writes the other rates: "4,296,646.3125".
      rate: jpyPrice.toLocaleString("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 }),
      description: "JPY",
      rate_float: jpyPrice,
    };
    return event;
  }
}

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      // Source: GET the URL each time the trigger fires (every 5 seconds); the event is the body (a Buffer).
      new HTTPClientSource(app, this, {
        config: { url: "https://api.coindesk.com/v1/bpi/currentprice.json" },
      }).on(new PeriodicTrigger(app, 5)),
      // JSON text in, the object it holds out.
      new StdJsonToDictParser<CurrentPrice>(app, this),
      new EnrichProcessor(app, this),
      // Sink: prints each event laid out for a person, as Python's pprint.
      new PPrintSink(app, this),
    );
  }
}
