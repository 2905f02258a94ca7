/**
 * BSPump's node list: `url` holds one or several node URLs separated by `;` and/or newlines (a
 * multi-line value). A node after a `;` may leave out the scheme and path, which it then takes from
 * the URL before it: `http://es1:9200;es2:9200` is two nodes, as in BSPump.
 */

export function parseNodeUrls(value: string): string[] {
  const nodes: string[] = [];
  for (const entry of value.split(/\s+/)) {
    let scheme: string | undefined;
    let path = "";
    for (const raw of entry.split(";")) {
      const part = raw.trim();
      if (part === "") continue;
      const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(part);
      if (!hasScheme && scheme === undefined) throw new TypeError(`'${part}' has no scheme (write http://${part} or https://${part})`);
      const text = hasScheme ? part : `${scheme}//${part}${part.includes("/") ? "" : path}`;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new TypeError(`'${part}' is not a URL`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`'${part}': only http: and https: nodes are supported`);
      if (hasScheme) {
        scheme = url.protocol;
        path = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");
      }
      nodes.push(url.href.replace(/\/+$/, ""));
    }
  }
  return nodes;
}

/** The URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href.replace(/\/+$/, "");
  } catch {
    return url;
  }
}
