// Vitest helper: a describe() that runs when the server's variable is set, skips with one line saying how
// to start the server when it is not, and fails (through serverUrl) when it is not and CI is set.
import { describe, it } from "vitest";
import { missingServerMessage, serverUrl } from "./index.js";

export function describeWithServer(name, variable, serverOrBody, maybeBody) {
  const server = typeof serverOrBody === "string" ? serverOrBody : undefined;
  const body = typeof serverOrBody === "function" ? serverOrBody : maybeBody;
  const url = serverUrl(variable, server);
  if (url === undefined) {
    // a skipped placeholder keeps the reason in the report
    describe.skip(name, () => {
      it(missingServerMessage(variable, server), () => {});
    });
    return;
  }
  describe(name, () => body(url));
}
