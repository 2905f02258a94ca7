import {
  PeriodicTrigger,
  Pipeline,
  Processor,
  Sink,
  TriggerSource,
  type Context,
  type PumpApplication,
} from "@pump/core";

export interface Reading {
  sensor: string;
  fahrenheit: number;
}

export interface CelsiusReading {
  sensor: string;
  celsius: number;
}

/** A small deterministic random generator, so a seeded demo prints the same every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each cycle reads every sensor once and hands the readings over as one batch. */
export class SensorSource extends TriggerSource<Reading> {
  static override ConfigDefaults = { sensors: 3, seed: 1 };
  readonly #random = mulberry32(this.config.getInt("seed"));

  async cycle(): Promise<void> {
    const readings: Reading[] = [];
    for (let i = 1; i <= this.config.getInt("sensors"); i++) {
      readings.push({ sensor: `sensor-${i}`, fahrenheit: Math.round((50 + this.#random() * 50) * 10) / 10 });
    }
    await this.processBatch(readings);
  }
}

export class ToCelsius extends Processor<Reading, CelsiusReading> {
  process(_context: Context, reading: Reading): CelsiusReading {
    return { sensor: reading.sensor, celsius: Math.round(((reading.fahrenheit - 32) * 5) / 9 * 10) / 10 };
  }
}

/** Drops implausible readings; the pipeline counts them as dropped. */
export class ThresholdFilter extends Processor<CelsiusReading, CelsiusReading> {
  static override ConfigDefaults = { max_celsius: 35 };
  readonly #max = this.config.getFloat("max_celsius");

  process(_context: Context, reading: CelsiusReading): CelsiusReading | null {
    return reading.celsius > this.#max ? null : reading;
  }
}

export class ConsoleSink extends Sink<CelsiusReading> {
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`);

  process(_context: Context, reading: CelsiusReading): void {
    this.write(`${reading.sensor.padEnd(10)} ${reading.celsius.toFixed(1).padStart(5)} °C`);
  }
}

export class SensorPipeline extends Pipeline {
  constructor(app: PumpApplication, id: string, intervalSeconds = 1) {
    super(app, id);
    this.build(
      new SensorSource(app, this).on(new PeriodicTrigger(app, intervalSeconds)),
      new ToCelsius(app, this),
      new ThresholdFilter(app, this),
      new ConsoleSink(app, this),
    );
  }
}
