// BSPump's "Weather API Example", in TypeScript: the current weather of several cities from the
// OpenWeather API every 5 seconds, one request per city, with the URL and the API key read from a
// `.conf` file (`node src/main.ts -c etc/weather-pump.conf`).
import { PeriodicTrigger, Pipeline, PPrintSink, StdJsonToDictParser, TriggerSource, type PumpApplication } from "@pump/core";

/**
 * The tutorial's "multiple locations source": HTTPClientSource asks one URL, this source asks one
 * URL per city in each cycle. `url` is a template: `{city}` and `{api_key}` are replaced (URL-encoded).
 * Each answer's body is one event (bytes, as in BSPump).
 */
export class LoadSource extends TriggerSource<Buffer> {
  static override ConfigDefaults = {
    url: "https://api.openweathermap.org/data/2.5/weather?q={city}&units=metric&appid={api_key}",
    api_key: "",
    cities: "London, New York, Berlin", // the tutorial's list; separated by commas
    timeout: 30, // seconds to wait for each answer
  };

  readonly cities: string[] = this.config
    .get("cities")
    .split(",")
    .map((city) => city.trim())
    .filter((city) => city !== "");
  // Read when the pump starts, so a missing ${OPENWEATHER_API_KEY} stops it at once with a clear error.
  readonly #url = this.config.get("url");
  readonly #apiKey = this.config.get("api_key");
  readonly #timeout = this.config.getSeconds("timeout");

  /** The URL for one city. */
  url(city: string): string {
    return this.#url.replaceAll("{city}", encodeURIComponent(city)).replaceAll("{api_key}", encodeURIComponent(this.#apiKey));
  }

  async cycle(): Promise<void> {
    // Goes through the list of cities and asks the API for each one.
    for (const city of this.cities) {
      const url = this.url(city);
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.any([this.signal, AbortSignal.timeout(this.#timeout * 1000)]) });
      } catch (error) {
        if (this.signal.aborted) throw error;
        this.#skip(city, `cannot reach the API: ${(error as Error).cause ?? error}`);
        continue;
      }
      const event = Buffer.from(await response.arrayBuffer());
      if (!response.ok) {
        // OpenWeather explains itself in the body: {"cod":401,"message":"Invalid API key. ..."}
        this.#skip(city, `the API answered ${response.status}: ${event.toString("utf8").slice(0, 200)}`);
        continue;
      }
      await this.process(event, { city });
    }
  }

  /** A city without an answer this cycle: a warning (counted by the pipeline), and on to the next city. */
  #skip(city: string, reason: string): void {
    this.log.warn(`No weather for ${city}: ${reason}`, { city });
    this.pipeline.metrics.warning++;
  }
}

export class SamplePipeline extends Pipeline {
  constructor(app: PumpApplication, pipelineId: string) {
    super(app, pipelineId);
    this.build(
      new LoadSource(app, this).on(new PeriodicTrigger(app, 5)),
      // The answers are JSON: printed as objects (Node would print a Buffer as hex bytes).
      new StdJsonToDictParser(app, this),
      new PPrintSink(app, this),
    );
  }
}
