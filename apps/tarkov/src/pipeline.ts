// BSPump's "Escape From Tarkov Craft Profit Counter", in TypeScript: every 5 seconds the pump asks the
// tarkov-tools GraphQL API for every craft of the game's hideout with the prices of its items, works
// out what each craft earns (per craft and per hour), prints the table and writes it to a CSV file
// for a Discord bot to read.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { NullSink, PeriodicTrigger, Pipeline, PPrintProcessor, Processor, type ComponentOptions, type Context, type PumpApplication } from "@pump/core";
import { HTTPABCClientSource, type HTTPClientContext } from "@pump/http";
import { DataFrame } from "./data-frame.ts";

export const query = `
query {
  crafts {
    source
    duration
    rewardItems {
      quantity
      item {
        shortName
        lastLowPrice
      }
    }
    requiredItems {
      quantity
      item {
        shortName
        lastLowPrice
      }
    }
  }
}
`;

/** An item and how many of it, as the API answers. `lastLowPrice` is null for items not on the market. */
export interface ItemQuantity {
  quantity: number;
  item: { shortName: string; lastLowPrice: number | null };
}

export interface Craft {
  /** The station and its level: "Workbench level 3". */
  source: string;
  /** Seconds. */
  duration: number;
  rewardItems: ItemQuantity[];
  requiredItems: ItemQuantity[];
}

/** The API's answer to `query`. */
export interface CraftsAnswer {
  data: { crafts: Craft[] };
  errors?: { message: string }[];
}

/**
 * POSTs the GraphQL query and hands the answer, parsed, to the pipeline. The tutorial writes this
 * source with aiohttp; here it is an HTTP client source of @pump/http, which brings the POST, the
 * status check (200 only, as the tutorial) and the retries.
 */
export class IOHTTPSource extends HTTPABCClientSource<CraftsAnswer> {
  static override ConfigDefaults = { url: "https://tarkov-tools.com/graphql", method: "POST" };

  constructor(app: PumpApplication, pipeline: Pipeline, options: ComponentOptions = {}) {
    super(app, pipeline, { ...options, body: { query } });
  }

  protected async read(exchange: { bytes(): Promise<Buffer> }, context: HTTPClientContext): Promise<void> {
    const body = await exchange.bytes();
    let answer: CraftsAnswer;
    try {
      answer = JSON.parse(body.toString("utf8")) as CraftsAnswer;
    } catch (error) {
      return this.malformed(context, body, "the answer is not JSON", error);
    }
    if (answer.errors !== undefined && answer.errors.length > 0) {
      return this.malformed(context, body, `the query failed: ${answer.errors.map((e) => e.message).join("; ")}`);
    }
    await this.emit([answer], context);
  }
}

export interface CraftRow extends Record<string, unknown> {
  station: string;
  name: string;
  output_price_item: number;
  /** Hours, to 3 decimals. */
  duration: number;
  input_price_item: number;
  profit: number;
  profit_per_hour: number | null;
}

export const my_columns = ["station", "name", "output_price_item", "duration", "input_price_item", "profit", "profit_per_hour"] as const;

/** Python's round(x, ndigits). */
function round(x: number, ndigits: number): number {
  return Number(x.toFixed(ndigits));
}

/** The tutorial's filter: one row per craft, with what its items cost and what it earns. */
export class FilterByStation extends Processor<CraftsAnswer, DataFrame<CraftRow>> {
  process(_context: Context, event: CraftsAnswer): DataFrame<CraftRow> {
    const df = new DataFrame<CraftRow>(my_columns);
    for (const item of event.data.crafts) {
      const duration = round(item.duration / 60 / 60, 3);
      const reward = item.rewardItems[0];
      if (reward === undefined) continue; // a craft that gives nothing has no price
      const name_output = reward.item.shortName;
      const quantity = reward.quantity;
      const output_item_price = reward.item.lastLowPrice ?? 0; // null: not on the market
      const output_price_item = quantity * output_item_price;
      const station_name = item.source;
      let input_price_item = 0;
      for (const required_item of item.requiredItems) {
        const input_item = required_item.item.lastLowPrice ?? 0;
        input_price_item += input_item * required_item.quantity;
      }
      const profit = output_price_item - input_price_item;
      const profit_p_hour = duration > 0 ? round(profit / duration, 3) : null;
      df.append({
        station: station_name,
        name: name_output,
        output_price_item,
        duration,
        input_price_item,
        profit,
        profit_per_hour: profit_p_hour,
      });
    }
    return df;
  }
}

/**
 * Writes the table to `path` (the tutorial's ./Data/TarkovData.csv), replacing the file of the
 * previous cycle at once — written beside it, then renamed — so a reader never sees half a table.
 */
export class DataFrameToCSV extends Processor<DataFrame<CraftRow>, DataFrame<CraftRow>> {
  static override ConfigDefaults = { path: "./Data/TarkovData.csv" };

  readonly path = this.config.get("path");

  async process(_context: Context, event: DataFrame<CraftRow>): Promise<DataFrame<CraftRow>> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(`${this.path}.tmp`, event.toCSV());
    await rename(`${this.path}.tmp`, this.path);
    return event;
  }
}

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      new IOHTTPSource(app, this).on(new PeriodicTrigger(app, 5)),
      new FilterByStation(app, this),
      new PPrintProcessor(app, this),
      new DataFrameToCSV(app, this),
      new NullSink(app, this),
    );
  }
}
