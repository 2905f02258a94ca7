import { planned } from "./planned.ts";

export const elasticsearch = planned("elasticsearch", "pump → Elasticsearch bulk", "ES_URL");
