import { DuplicateError } from "../errors.js";

/**
 * A path pattern: `/bspump/v1/pipelines/:id` — literal segments, `:name` for one segment (taken
 * into `params.name`, decoded), and a last segment `*` for the rest of the path (`params["*"]`,
 * possibly empty). When several routes match, the more specific one wins, segment by segment:
 * a literal beats a parameter, a parameter beats `*`.
 */
type Segment = { kind: 0; text: string } | { kind: 1; name: string } | { kind: 2 };

interface Entry<H> {
  method: string;
  pattern: string;
  segments: Segment[];
  /** The pattern without parameter names: two routes with the same shape are the same route. */
  shape: string;
  handler: H;
}

export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
  /** The pattern the request matched. */
  pattern: string;
}

export type RouteLookup<H> =
  | { found: true; match: RouteMatch<H> }
  /** `allowed` is empty when no route has the path (404), else the methods it has (405). */
  | { found: false; allowed: string[] };

function parsePattern(pattern: string): Segment[] {
  if (!pattern.startsWith("/")) throw new TypeError(`Route pattern '${pattern}' must start with '/'`);
  const parts = splitPath(pattern);
  return parts.map((part, index): Segment => {
    if (part === "*") {
      if (index !== parts.length - 1) throw new TypeError(`Route pattern '${pattern}': '*' must be the last segment`);
      return { kind: 2 };
    }
    if (part.startsWith(":")) {
      const name = part.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`Route pattern '${pattern}': bad parameter name '${part}'`);
      return { kind: 1, name };
    }
    return { kind: 0, text: part };
  });
}

/** "/a/b/" → ["a", "b"]; "/" → []. A trailing slash does not count. */
export function splitPath(path: string): string[] {
  const parts = path.split("/").slice(1);
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

/** Segments (decoded) against a pattern; the params, or undefined when it does not match. */
function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === 2) {
      params["*"] = parts.slice(i).join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 0) {
      if (part !== segment.text) return undefined;
    } else {
      if (part === "") return undefined;
      params[segment.name] = part;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

/** Negative when `a` is more specific than `b`. */
function compareSpecificity(a: readonly Segment[], b: readonly Segment[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const ka = a[i]?.kind ?? 3;
    const kb = b[i]?.kind ?? 3;
    if (ka !== kb) return ka - kb;
  }
  return 0;
}

/** Method + path routing for the web API; HEAD is answered by GET routes unless it has its own. */
export class WebRouter<H> {
  readonly #entries: Entry<H>[] = [];

  /** Adds a route; returns a function that removes it. The same method and pattern twice is a DuplicateError. */
  add(method: string, pattern: string, handler: H): () => void {
    const upper = method.toUpperCase();
    if (!/^[A-Z]+$/.test(upper)) throw new TypeError(`Bad HTTP method '${method}'`);
    const segments = parsePattern(pattern);
    const shape = segments.map((s) => (s.kind === 0 ? `/${s.text}` : s.kind === 1 ? "/:" : "/*")).join("");
    if (this.#entries.some((e) => e.method === upper && e.shape === shape)) throw new DuplicateError("Route", `${upper} ${pattern}`);
    const entry: Entry<H> = { method: upper, pattern, segments, shape, handler };
    this.#entries.push(entry);
    return () => {
      const index = this.#entries.indexOf(entry);
      if (index >= 0) this.#entries.splice(index, 1);
    };
  }

  /** The routes, as "METHOD pattern". */
  list(): string[] {
    return this.#entries.map((e) => `${e.method} ${e.pattern}`);
  }

  /** `parts` are the decoded segments of the request path (see `splitPath`). */
  lookup(method: string, parts: readonly string[]): RouteLookup<H> {
    let best: { entry: Entry<H>; params: Record<string, string> } | undefined;
    let bestHead: typeof best;
    const allowed = new Set<string>();
    for (const entry of this.#entries) {
      const params = matchSegments(entry.segments, parts);
      if (params === undefined) continue;
      allowed.add(entry.method);
      if (entry.method === "GET") allowed.add("HEAD");
      const candidate = { entry, params };
      if (entry.method === method) {
        if (best === undefined || compareSpecificity(entry.segments, best.entry.segments) < 0) best = candidate;
      } else if (method === "HEAD" && entry.method === "GET") {
        if (bestHead === undefined || compareSpecificity(entry.segments, bestHead.entry.segments) < 0) bestHead = candidate;
      }
    }
    const chosen = best ?? bestHead;
    if (chosen !== undefined) return { found: true, match: { handler: chosen.entry.handler, params: chosen.params, pattern: chosen.entry.pattern } };
    return { found: false, allowed: [...allowed].toSorted() };
  }
}
