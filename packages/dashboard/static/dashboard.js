// The dashboard page: one EventSource, a frame about once a second, the DOM updated in place.
// Every value from the pump is put into the page as text (textContent, setAttribute on plain
// attributes): nothing from an event is ever parsed as HTML.

const STREAM = "/bspump/v1/dashboard/stream";
const FRAME_VERSION = 1;
const TOKEN_KEY = "pump-dashboard-token";
const STALE_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";
const STATES = new Set(["ready", "throttled", "error", "stopped"]);
const LEVELS = new Set(["warn", "error"]);
const KINDS = new Set(["source", "processor", "generator", "sink"]);

const $ = (id) => document.getElementById(id);

/** An element with properties (`text`, `class`, `on*` handlers, other attributes) and children. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs ?? {})) el.setAttribute(key, String(value));
  return el;
}

// ---- formatting -----------------------------------------------------------------------------

const integer = new Intl.NumberFormat("en-US");
const fmtInt = (n) => (typeof n === "number" ? integer.format(n) : "–");
function fmtRate(n) {
  if (n >= 100) return integer.format(Math.round(n));
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(n === 0 ? 0 : 2);
}
function fmtSeconds(s) {
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return fmtAge(s * 1000);
}
function fmtAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
const fmtBytes = (b) => `${(b / 1048576).toFixed(b < 10485760 ? 1 : 0)} MB`;
const fmtTime = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
const ago = (at, now) => (at === null ? "never" : `${fmtAge(now - at)} ago`);

// ---- state ----------------------------------------------------------------------------------

/** Per pipeline id: rate samples for the sparklines. */
const history = new Map();
/** Per pipeline id: its card's elements. */
const cards = new Map();
let lastFrameAt = 0;

function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

// ---- header ---------------------------------------------------------------------------------

function renderPump(pump, at) {
  $("pump-name").textContent = pump.name;
  document.title = `${pump.name} · pump dashboard`;
  const facts = [`@pump/core ${pump.coreVersion}`, `Node ${pump.node}`, `pid ${pump.pid}`, `up ${fmtAge(at - pump.startedAt)}`, `rss ${fmtBytes(pump.rss)}`, `heap ${fmtBytes(pump.heapUsed)}`];
  if (pump.loopDelay !== null) facts.push(`event loop p99 ${pump.loopDelay.p99.toFixed(1)} ms (max ${pump.loopDelay.max.toFixed(1)})`);
  $("pump-facts").textContent = facts.join(" · ");
  $("token-box").hidden = !pump.tokenRequired;
}

function setLink(state, text) {
  const link = $("link");
  link.dataset.state = state;
  link.textContent = text;
}

// ---- pipelines ------------------------------------------------------------------------------

function throttleText(p, now) {
  if (p.state === "throttled") {
    const who = p.throttles.map((t) => (t.kind === "other" ? t.id : `${t.id} (${t.kind === "processor" ? "component" : t.kind})`));
    const since = p.notReady.since === null ? "" : ` for ${fmtAge(now - p.notReady.since)}`;
    return `throttled${since} by ${who.join(", ") || "?"}`;
  }
  if (p.state === "error") return `stopped by a hard error${p.error?.component ? ` in ${p.error.component}` : ""}`;
  if (p.state === "stopped") return "not running";
  return p.notReady.count > 0 ? `held ${fmtInt(p.notReady.count)}× since start · ready ${(p.readyDutyCycle * 100).toFixed(1)}% of the time` : "";
}

function newCard(id) {
  const c = {};
  c.name = h("h3", { text: id });
  c.cls = h("span", { class: "cls" });
  c.badge = h("span", { class: "badge" });
  c.why = h("p", { class: "why" });
  c.counters = {};
  const counters = h("dl", { class: "counters" });
  for (const [key, label] of [["in", "in"], ["out", "out"], ["drop", "dropped"], ["warning", "warnings"], ["error", "errors"], ["routedErrors", "routed"]]) {
    const dd = h("dd", { "data-counter": key });
    const box = h("div", null, h("dt", { text: label }), dd);
    c.counters[key] = { dd, box };
    counters.append(box);
  }
  c.epsIn = h("span", { class: "in" });
  c.epsOut = h("span", { class: "out" });
  c.lineIn = svg("polyline", { class: "in", points: "" });
  c.lineOut = svg("polyline", { class: "out", points: "" });
  c.spark = svg("svg", { class: "spark", viewBox: "0 0 300 30", preserveAspectRatio: "none", role: "img" });
  c.sparkTitle = svg("title");
  c.spark.append(c.sparkTitle, c.lineOut, c.lineIn);
  c.chain = h("ol", { class: "chain" });
  c.errorBox = h("section", { class: "error", hidden: true });
  c.errorKey = "";
  c.root = h(
    "article",
    { class: "pipeline", "data-pipeline": id },
    h("header", null, c.name, c.cls, c.badge),
    c.why,
    counters,
    h("div", { class: "rate" }, h("span", { class: "eps" }, c.epsIn, " · ", c.epsOut), c.spark),
    c.chain,
    c.errorBox,
  );
  return c;
}

function chip(kind, title, detail) {
  return h("li", null, h("div", { class: `chip ${KINDS.has(kind) ? kind : "processor"}`, title }, h("b", { text: title }), h("small", { text: detail })));
}

function renderChain(c, p) {
  const items = [];
  const holding = new Set(p.throttles.map((t) => t.id));
  for (const s of p.sources) {
    const parts = [s.class === s.id ? "source" : s.class];
    if (s.queue !== undefined) parts.push(`queue ${fmtInt(s.queue)}${s.backPressure ? " (full)" : ""}`);
    const li = chip("source", s.id, parts.join(" · "));
    if (holding.has(`${p.id}.*${s.id}`)) li.firstChild.classList.add("holding");
    items.push(li);
  }
  p.depths.forEach((depth, d) => {
    depth.forEach((proc, i) => {
      const failed = p.error !== null && p.error.component === proc.id;
      const held = holding.has(`${p.id}.${proc.id}`);
      const li = chip(proc.kind, proc.id, `${fmtInt(proc.runs)} calls · ${fmtSeconds(proc.seconds)}`);
      if (d > 0 && i === 0) li.classList.add("next-depth");
      if (failed || held) li.firstChild.classList.add(failed ? "failed" : "holding");
      li.firstChild.setAttribute("title", `${proc.id} (${proc.class}, ${proc.kind})`);
      items.push(li);
    });
  });
  c.chain.replaceChildren(...items);
}

function renderSpark(c, id, now, seconds) {
  const h0 = history.get(id);
  if (h0 === undefined || h0.t.length === 0) {
    c.lineIn.setAttribute("points", "");
    c.lineOut.setAttribute("points", "");
    return;
  }
  // the window grows with the data up to historySeconds, so a pump that just started is not a blank line
  const span = Math.min(seconds, Math.max(10, (now - h0.t[0]) / 1000));
  const from = now - span * 1000;
  let max = 1;
  for (let i = 0; i < h0.t.length; i++) max = Math.max(max, h0.in[i], h0.out[i]);
  const x = (t) => (((t - from) / (span * 1000)) * 300).toFixed(1);
  const y = (v) => (29 - (v / max) * 27).toFixed(1);
  const line = (values) => h0.t.map((t, i) => `${x(t)},${y(values[i])}`).join(" ");
  c.lineIn.setAttribute("points", line(h0.in));
  c.lineOut.setAttribute("points", line(h0.out));
  c.sparkTitle.textContent = `events/s in (blue) and out (green), last ${fmtAge(span * 1000)}; peak ${fmtRate(max)}/s`;
}

function renderError(c, p) {
  const e = p.error;
  const key = e === null ? "" : `${e.at}|${e.component}|${e.message}`;
  if (key === c.errorKey) return;
  c.errorKey = key;
  if (e === null) {
    c.errorBox.hidden = true;
    c.errorBox.replaceChildren();
    return;
  }
  const outcome = h("span", { class: "outcome", role: "status" });
  const button = h("button", { type: "button", class: "clear", title: "Clears this pipeline's hard error, as SIGUSR1 does for every pipeline" }, "Clear error");
  button.addEventListener("click", () => clearError(p.id, button, outcome));
  c.errorBox.replaceChildren(
    h("h4", { text: `Hard error in ${e.component ?? "the pipeline"}` }),
    h("p", { class: "reason", text: e.message }),
    h("p", { class: "meta", text: `${e.name}${e.code ? ` ${e.code}` : ""} · at ${fmtTime(e.at)}` }),
    h("details", { open: true }, h("summary", { text: "event" }), h("pre", { class: "event", text: e.event })),
    h("details", { open: true }, h("summary", { text: "context" }), h("pre", { class: "context", text: e.context })),
    e.stack ? h("details", null, h("summary", { text: "stack" }), h("pre", { class: "stack", text: e.stack })) : null,
    h("div", { class: "actions" }, button, outcome),
  );
  c.errorBox.hidden = false;
}

async function clearError(id, button, outcome) {
  const headers = {};
  const t = token();
  if (t !== "") headers.authorization = `Bearer ${t}`;
  button.disabled = true;
  outcome.className = "outcome";
  outcome.textContent = "clearing…";
  try {
    const response = await fetch(`/bspump/v1/pipelines/${encodeURIComponent(id)}/clear-error`, { method: "POST", headers, cache: "no-store" });
    if (response.ok) {
      outcome.textContent = "cleared";
    } else {
      let message = `${response.status}`;
      try {
        message = `${response.status}: ${(await response.json()).error}`;
      } catch {
        // not JSON: the status says enough
      }
      outcome.className = "outcome refused";
      outcome.textContent =
        response.status === 401 ? `refused (${message}): enter the operator token above` : response.status === 403 ? `refused (${message}): wrong operator token` : `failed (${message})`;
    }
  } catch (error) {
    outcome.className = "outcome refused";
    outcome.textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    button.disabled = false;
  }
}

function renderCard(c, p, frame) {
  const state = STATES.has(p.state) ? p.state : "stopped";
  c.root.className = `pipeline state-${state}`;
  c.root.dataset.state = state;
  c.cls.textContent = p.class === p.id ? "" : p.class;
  c.badge.textContent = state;
  c.why.textContent = throttleText(p, frame.at);
  for (const [key, { dd, box }] of Object.entries(c.counters)) {
    dd.textContent = fmtInt(p.counters[key]);
    box.classList.toggle("bad", (key === "error" || key === "warning") && p.counters[key] > 0);
  }
  c.epsIn.textContent = `${fmtRate(p.rates.in)}/s in`;
  c.epsOut.textContent = `${fmtRate(p.rates.out)}/s out`;
  renderSpark(c, p.id, frame.at, frame.pump.historySeconds);
  renderChain(c, p);
  renderError(c, p);
}

/** Columns by depth in the graph of routes and links: a pipeline sits right of every pipeline feeding it. */
function ranks(pipelines, edges) {
  const rank = new Map(pipelines.map((p) => [p.id, 0]));
  for (let round = 0; round < pipelines.length; round++) {
    let changed = false;
    for (const e of edges) {
      if (e.from === e.to || !rank.has(e.from) || !rank.has(e.to)) continue;
      const next = rank.get(e.from) + 1;
      if (next > rank.get(e.to) && next < pipelines.length) {
        rank.set(e.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return rank;
}

function renderPipelines(frame) {
  const graph = $("graph");
  const rank = ranks(frame.pipelines, frame.edges);
  const columns = [];
  const seen = new Set();
  for (const p of frame.pipelines) {
    seen.add(p.id);
    let c = cards.get(p.id);
    if (c === undefined) {
      c = newCard(p.id);
      cards.set(p.id, c);
    }
    renderCard(c, p, frame);
    const r = rank.get(p.id) ?? 0;
    (columns[r] ??= []).push(c.root);
  }
  for (const [id, c] of cards) {
    if (!seen.has(id)) {
      c.root.remove();
      cards.delete(id);
      history.delete(id);
    }
  }
  const cols = [...graph.querySelectorAll(":scope > .col")];
  const wanted = columns.filter(Boolean);
  wanted.forEach((members, i) => {
    let col = cols[i];
    if (col === undefined) {
      col = h("div", { class: "col" });
      graph.append(col);
      cols.push(col);
    }
    members.forEach((el, j) => {
      if (col.children[j] !== el) col.insertBefore(el, col.children[j] ?? null);
    });
    while (col.children.length > members.length) col.lastChild.remove();
  });
  for (const extra of cols.slice(wanted.length)) extra.remove();
  $("empty").hidden = frame.pipelines.length > 0;
  drawEdges(frame.edges);
}

let lastEdges = [];
function drawEdges(edges) {
  lastEdges = edges;
  const graph = $("graph");
  const layer = $("edges");
  const box = graph.getBoundingClientRect();
  layer.setAttribute("width", String(graph.scrollWidth));
  layer.setAttribute("height", String(graph.scrollHeight));
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z" }));
  const defs = svg("defs");
  defs.append(marker);
  const parts = [defs];
  for (const e of edges) {
    const kind = e.kind === "link" ? "link" : "route";
    const from = cards.get(e.from)?.root;
    const to = cards.get(e.to)?.root;
    if (from === undefined || to === undefined || from === to) continue;
    const a = from.getBoundingClientRect();
    const b = to.getBoundingClientRect();
    const ox = graph.scrollLeft - box.left;
    const oy = -box.top;
    let x1 = a.right + ox;
    let y1 = a.top + Math.min(a.height / 2, 40) + oy;
    let x2 = b.left + ox;
    let y2 = b.top + Math.min(b.height / 2, 40) + oy;
    let d;
    if (x2 > x1) {
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
    } else {
      // same column (or backwards): go around on the right
      x1 = a.right + ox;
      x2 = b.right + ox;
      y2 = b.top + 20 + oy;
      const bend = Math.max(x1, x2) + 40;
      d = `M${x1},${y1} C${bend},${y1} ${bend},${y2} ${x2},${y2}`;
    }
    const path = svg("path", { d, class: kind, "marker-end": "url(#arrow)" });
    const title = svg("title");
    title.textContent = kind === "route" ? `${e.from} routes into ${e.to}.*${e.via}` : `${e.from} is linked to ${e.to}: it waits while ${e.to} is throttled`;
    path.append(title);
    parts.push(path);
    const label = svg("text", { x: (x1 + x2) / 2, y: Math.min(y1, y2) - 6, "text-anchor": "middle", class: kind });
    label.textContent = kind === "route" ? e.via : "link";
    parts.push(label);
  }
  layer.replaceChildren(...parts);
}
window.addEventListener("resize", () => drawEdges(lastEdges));

// ---- tables ---------------------------------------------------------------------------------

function rows(tbodyId, list) {
  $(tbodyId).querySelector("tbody").replaceChildren(...list);
}
const num = (value) => h("td", { class: "num", text: typeof value === "number" ? fmtInt(value) : "–" });

function renderTables(frame) {
  const now = frame.at;
  rows(
    "delivery",
    frame.pipelines.map((p) =>
      h("tr", { "data-pipeline": p.id }, h("td", { text: p.id }), num(p.delivery.inFlight), num(p.delivery.queued), num(p.delivery.pending), num(p.delivery.routedErrors), num(p.delivery.hardErrors)),
    ),
  );
  rows(
    "lookups",
    frame.lookups.map((l) =>
      h(
        "tr",
        { "data-lookup": l.id },
        h("td", { text: l.id }),
        h("td", { text: l.master === null ? l.class : `${l.class} (copy of ${l.master})` }),
        num(l.size),
        h("td", { text: l.loaded ? "yes" : "no" }),
        h("td", { text: ago(l.updatedAt, now) }),
        h("td", { text: ago(l.changedAt, now) }),
      ),
    ),
  );
  rows(
    "connections",
    frame.connections.map((c) => {
      const details = Object.entries(c.details).map(([k, v]) => `${k}: ${v}`);
      return h("tr", { "data-connection": c.id }, h("td", { text: c.id }), h("td", { text: c.class }), h("td", { text: details.length > 0 ? details.join(" · ") : "(not reported by the connector)" }));
    }),
  );
  const log = [];
  for (const p of frame.pipelines) for (const record of p.log) log.push([p.id, record]);
  log.sort((a, b) => b[1].time - a[1].time);
  rows(
    "log",
    log.slice(0, 30).map(([pipeline, r]) =>
      h(
        "tr",
        null,
        h("td", { class: "num", text: fmtTime(r.time) }),
        h("td", { text: pipeline }),
        h("td", { class: LEVELS.has(r.level) ? `lvl-${r.level}` : undefined, text: r.level }),
        h("td", { text: r.component ?? "" }),
        h("td", { text: r.error === null ? r.message : `${r.message}: ${r.error}` }),
      ),
    ),
  );
}

// ---- the stream -----------------------------------------------------------------------------

function addHistory(frame) {
  const horizon = frame.at - frame.pump.historySeconds * 1000;
  if (frame.full && frame.history) {
    history.clear();
    for (const [id, h0] of Object.entries(frame.history)) history.set(id, { t: [...h0.t], in: [...h0.in], out: [...h0.out] });
    return;
  }
  if (!frame.point) return;
  for (const p of frame.pipelines) {
    let h0 = history.get(p.id);
    if (h0 === undefined) history.set(p.id, (h0 = { t: [], in: [], out: [] }));
    h0.t.push(frame.at);
    h0.in.push(p.rates.in);
    h0.out.push(p.rates.out);
    while (h0.t.length > 0 && h0.t[0] < horizon) {
      h0.t.shift();
      h0.in.shift();
      h0.out.shift();
    }
  }
}

function onFrame(event) {
  let frame;
  try {
    frame = JSON.parse(event.data);
  } catch {
    return;
  }
  if (frame.v !== FRAME_VERSION) {
    setLink("down", `this page cannot read frames of version ${String(frame.v)}: reload`);
    return;
  }
  lastFrameAt = Date.now();
  setLink("live", "live");
  document.body.dataset.seq = String(frame.seq);
  addHistory(frame);
  renderPump(frame.pump, frame.at);
  renderPipelines(frame);
  renderTables(frame);
}

function connect() {
  const source = new EventSource(STREAM);
  source.addEventListener("frame", onFrame);
  source.addEventListener("open", () => setLink("live", "live"));
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) {
      setLink("connecting", "reconnecting…");
      return;
    }
    // the browser gave up (the pump answered with an error): try again ourselves
    setLink("down", "disconnected: retrying");
    source.close();
    setTimeout(connect, 3000);
  });
}

setInterval(() => {
  if (lastFrameAt !== 0 && Date.now() - lastFrameAt > STALE_MS && $("link").dataset.state === "live") setLink("stale", `no update for ${fmtAge(Date.now() - lastFrameAt)}`);
}, 1000);

const tokenInput = $("token");
tokenInput.value = token();
tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim()));
connect();
