// BSPump's "Fortnite Current Store Example", in TypeScript: every 2 seconds the pump asks the Fortnite
// Tracker API (with its API key in a header) for the items in the game's store today, adds a
// price-over-rarity coefficient to each, and writes them to a CSV file for a Discord bot to read.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { NullSink, ParseError, PeriodicTrigger, Pipeline, Processor, type Context, type PumpApplication } from "@pump/core";
import { formatCsvRow, QUOTE_MINIMAL, type CsvDialect } from "@pump/file";
import { HTTPClientSource } from "@pump/http";

/** One item of the store, as the API answers. */
export interface StoreItem {
  imageUrl: string;
  manifestId: number;
  name: string;
  /** "Handmade", "Uncommon", "Rare", "Epic", "Legendary"…, or the tracker's "Sturdy", "Quality", "Fine". */
  rarity: string;
  storeCategory: string;
  vBucks: number;
}

export type PricedItem = StoreItem & { Coef: number };

/** What each rarity is worth to the coefficient (the tutorial's if/elif chain); other rarities get a coefficient of 1. */
const RARITY_POINTS: Readonly<Record<string, number>> = { handmade: 1, uncommon: 2, rare: 3, epic: 4, legendary: 5, mythic: 6, exotic: 7 };

/** Adds `Coef`, rarity over price (× 100): the higher, the better the buy. A free item counts as costing 1. */
export class AddRarityPriceCoef extends Processor<Buffer | string, PricedItem[]> {
  process(_context: Context, event: Buffer | string): PricedItem[] {
    const df = readJson(event, this.locateAddress());
    return df.map((row) => {
      const price = row.vBucks === 0 ? 1 : row.vBucks;
      const points = RARITY_POINTS[row.rarity.toLowerCase()];
      return { ...row, Coef: points === undefined ? 1 : (points / price) * 100 };
    });
  }
}

/** pandas' `read_json` for the store: the answer must be a list of items. */
function readJson(event: Buffer | string, where: string): StoreItem[] {
  let value: unknown;
  try {
    value = JSON.parse(event.toString());
  } catch (error) {
    throw new ParseError(where, `the answer is not JSON: ${(error as Error).message}`, { cause: error });
  }
  // The API explains a refusal in an object: {"message": "Invalid authentication credentials"}.
  if (!Array.isArray(value)) throw new ParseError(where, `expected a list of store items, got ${JSON.stringify(value).slice(0, 200)}`);
  return value as StoreItem[];
}

/** pandas' `to_csv` dialect: commas, quotes only where needed, "\n" after each row. */
const CSV: CsvDialect = { delimiter: ",", quotechar: '"', escapechar: undefined, doublequote: true, skipinitialspace: false, lineterminator: "\n", quoting: QUOTE_MINIMAL, strict: false };

/**
 * Writes the items to `path` (the tutorial's data.csv), one row each, the columns in the order the
 * API sends them; the file of the previous cycle is replaced at once (written beside it, then renamed).
 * Prints the table, as the tutorial's `print(df)`.
 */
export class JSONtoCSV extends Processor<PricedItem[], PricedItem[]> {
  static override ConfigDefaults = { path: "data.csv" };

  readonly path = this.config.get("path");

  async process(_context: Context, event: PricedItem[]): Promise<PricedItem[]> {
    console.table(event, ["name", "rarity", "storeCategory", "vBucks", "Coef"]);
    const columns = [...new Set(event.flatMap((row) => Object.keys(row)))] as (keyof PricedItem)[];
    const csv = [columns, ...event.map((row) => columns.map((column) => row[column]))].map((values) => formatCsvRow(values, CSV)).join("");
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(`${this.path}.tmp`, csv);
    await rename(`${this.path}.tmp`, this.path);
    return event;
  }
}

export class SamplePipeline extends Pipeline {
  // The tutorial's configuration, in the pipeline's section: [pipeline:SamplePipeline] url=, api_key=
  static override ConfigDefaults = { url: "https://api.fortnitetracker.com/v1/store", api_key: "" };

  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      new HTTPClientSource(app, this, {
        config: { url: this.config.get("url") },
        headers: { "TRN-Api-Key": this.config.get("api_key") },
      }).on(new PeriodicTrigger(app, 2)),
      // Add price over rarity coefficient to dataframe
      new AddRarityPriceCoef(app, this),
      // Converts incoming json event to CSV data
      new JSONtoCSV(app, this),
      // We can also push datas to ES or Kafka
      new NullSink(app, this),
    );
  }
}
