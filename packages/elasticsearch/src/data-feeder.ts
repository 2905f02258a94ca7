/**
 * Data feeders (BSPump's `data_feeder_*`): turn a document and its `_id` into the NDJSON lines of
 * one bulk item — the action line, then the source line when the action has one — each ending in
 * "\n". The sink takes `_id` out of the event before it calls the feeder. A feeder throws on input
 * it cannot take; the sink hands that to the pipeline's error handling.
 */
import { ElasticSearchDocumentError } from "./errors.js";

export type Document = Record<string, unknown>;

export type DataFeeder = (document: Document, id: string | undefined) => string;

function action(name: string, id: string | undefined): string {
  return id === undefined ? `{"${name}":{}}\n` : `{"${name}":{"_id":${JSON.stringify(id)}}}\n`;
}

function source(document: unknown): string {
  return `${JSON.stringify(document)}\n`;
}

/** Without `_id`: `create` (Elasticsearch picks the id); with one: `index` (creates or replaces). BSPump's default. */
export const dataFeederCreateOrIndex: DataFeeder = (document, id) => (id === undefined ? '{"create":{}}\n' : action("index", id)) + source(document);

/** `create`: fails (409) if a document with that `_id` exists. */
export const dataFeederCreate: DataFeeder = (document, id) => action("create", id) + source(document);

/** `index`: creates or replaces. */
export const dataFeederIndex: DataFeeder = (document, id) => action("index", id) + source(document);

/** `update` with `{"doc": event}`: merges the fields into the existing document; `_id` required, a missing document fails (404). */
export const dataFeederUpdate: DataFeeder = (document, id) => {
  if (id === undefined) throw new ElasticSearchDocumentError("the update data feeder needs an _id in the event");
  return action("update", id) + source({ doc: document });
};

/** `update` with `doc_as_upsert`: merges into the document, or creates it if missing; `_id` required. */
export const dataFeederUpsert: DataFeeder = (document, id) => {
  if (id === undefined) throw new ElasticSearchDocumentError("the upsert data feeder needs an _id in the event");
  return action("update", id) + source({ doc: document, doc_as_upsert: true });
};

/** `delete`: the event is `{_id}` and nothing else; deleting a missing document counts as done. */
export const dataFeederDelete: DataFeeder = (document, id) => {
  if (id === undefined) throw new ElasticSearchDocumentError("the delete data feeder needs an _id in the event");
  const extra = Object.keys(document);
  if (extra.length > 0) throw new ElasticSearchDocumentError(`the delete data feeder takes an event with only _id, got fields ${extra.slice(0, 5).join(", ")}`);
  return action("delete", id);
};

/** The feeders the sink's `data_feeder` config key names. */
export const DATA_FEEDERS: Readonly<Record<string, DataFeeder>> = {
  create_or_index: dataFeederCreateOrIndex,
  create: dataFeederCreate,
  index: dataFeederIndex,
  update: dataFeederUpdate,
  upsert: dataFeederUpsert,
  delete: dataFeederDelete,
};
