/**
 * Aggregation results as flat rows (BSPump's ElasticSearchAggsSource walk, extended). Each leaf
 * bucket is one row: the keys of the buckets on its path, each under its aggregation's name (a
 * composite bucket's key spreads its sources' names), its `doc_count`, and the metrics found on the
 * way — single-value ones (`{value}`) as a number, multi-value ones (stats, percentiles...) as an
 * object without their `*_as_string` fields. A bucket with sub-bucket aggregations gives its metrics
 * to each row below it. A metric at the top level is one row `{name: value}`.
 */

export type Row = Record<string, unknown>;

type Agg = Record<string, unknown>;

function isObject(value: unknown): value is Agg {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keys of a bucket or an aggregation that are not sub-aggregations. */
const BUCKET_FIELDS = new Set(["key", "key_as_string", "doc_count", "from", "to", "from_as_string", "to_as_string", "doc_count_error_upper_bound", "bg_count", "score", "meta"]);

function isBucketAgg(value: Agg): boolean {
  return "buckets" in value;
}

/** A single-bucket aggregation (filter, nested, global, missing...): a doc_count and sub-aggregations. */
function isSingleBucket(value: Agg): boolean {
  return "doc_count" in value && !("buckets" in value) && !("value" in value);
}

function metricOf(value: Agg): unknown {
  if ("value" in value) return value.value;
  const metric: Row = {};
  for (const [key, field] of Object.entries(value)) {
    if (key.endsWith("_as_string") || key === "meta") continue;
    metric[key] = field;
  }
  return metric;
}

function bucketsOf(agg: Agg): { key: unknown; bucket: Agg }[] {
  const buckets = agg.buckets;
  if (Array.isArray(buckets)) return buckets.filter(isObject).map((bucket) => ({ key: bucket.key, bucket }));
  if (isObject(buckets)) return Object.entries(buckets).filter(([, bucket]) => isObject(bucket)).map(([key, bucket]) => ({ key: (bucket as Agg).key ?? key, bucket: bucket as Agg }));
  return [];
}

/** Walks one bucket's (or single-bucket aggregation's) children: metrics into `metrics`, bucket aggregations returned. */
function children(holder: Agg, metrics: Row): [string, Agg][] {
  const subs: [string, Agg][] = [];
  for (const [name, child] of Object.entries(holder)) {
    if (BUCKET_FIELDS.has(name) || !isObject(child)) continue;
    if (isBucketAgg(child)) subs.push([name, child]);
    else if (isSingleBucket(child)) subs.push([name, child]);
    else metrics[name] = metricOf(child);
  }
  return subs;
}

function walk(name: string, agg: Agg, path: Row, rows: Row[]): void {
  if (isSingleBucket(agg)) {
    // Transparent: its metrics join the path, its bucket aggregations go on; alone, it is a row with its count.
    const metrics: Row = {};
    const subs = children(agg, metrics);
    if (subs.length === 0) rows.push({ ...path, [`${name}.doc_count`]: agg.doc_count, ...metrics });
    else for (const [subName, sub] of subs) walk(subName, sub, { ...path, ...metrics }, rows);
    return;
  }
  for (const { key, bucket } of bucketsOf(agg)) {
    const row: Row = isObject(key) ? { ...path, ...key } : { ...path, [name]: key };
    const metrics: Row = {};
    const subs = children(bucket, metrics);
    if (subs.length === 0) rows.push({ ...row, doc_count: bucket.doc_count, ...metrics });
    else for (const [subName, sub] of subs) walk(subName, sub, { ...row, ...metrics }, rows);
  }
}

/** Flattens the `aggregations` of a search answer, each top-level aggregation in turn. */
export function flattenAggregations(aggregations: Record<string, unknown> | undefined): Row[] {
  const rows: Row[] = [];
  if (aggregations === undefined) return rows;
  for (const [name, agg] of Object.entries(aggregations)) {
    if (!isObject(agg)) continue;
    if (isBucketAgg(agg) || isSingleBucket(agg)) walk(name, agg, {}, rows);
    else rows.push({ [name]: metricOf(agg) });
  }
  return rows;
}
