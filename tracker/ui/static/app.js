// tracker ui: one page, routed by the URL's hash (all state in the URL, so a link can be shared).
// Data comes from the server's JSON API, or, in a static report, from window.TRACKER_REPORT.
// Every value enters the page through textContent (never innerHTML), so it is escaped once.
"use strict";

const REPORT = window.TRACKER_REPORT || null;
const main = document.getElementById("main");
let INFO = null;

// -- DOM helpers -----------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function text(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function link(page, params, label) {
  return h("a", { href: hashOf(page, params) }, label);
}

function hashOf(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return "#/" + page + (s ? "?" + s : "");
}

function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [page, query] = raw.split("?");
  return { page: page || "series", params: Object.fromEntries(new URLSearchParams(query || "")) };
}

function go(page, params) { location.hash = hashOf(page, params); }

function humanSize(n) {
  if (typeof n !== "number") return "-";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? n + " B" : n.toFixed(1) + " " + units[i];
}

function humanDuration(s) {
  if (typeof s !== "number") return "-";
  if (s < 1) return Math.round(s * 1000) + "ms";
  if (s < 60) return s.toFixed(1) + "s";
  const m = Math.floor(s / 60);
  return m < 60 ? m + "m" + String(Math.round(s % 60)).padStart(2, "0") + "s"
    : Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
}

function shortTime(iso) { return iso ? String(iso).replace("T", " ").slice(0, 19) : "-"; }

// -- data ------------------------------------------------------------------------------------
async function api(name, params) {
  if (REPORT) return reportApi(name, params || {});
  const q = new URLSearchParams(params || {}).toString();
  const resp = await fetch("api/" + name + (q ? "?" + q : ""));
  const data = await resp.json();
  if (!resp.ok) throw new Error((data.error && data.error.message) || resp.statusText);
  return data;
}

function pageOf(rows, params) {
  const size = Number(params.size) || 50;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const page = Math.min(Math.max(Number(params.page) || 1, 1), pages);
  return { rows: rows.slice((page - 1) * size, page * size), total: rows.length, page, pages, size };
}

function sortRows(rows, sort) {
  if (!sort) return rows;
  const desc = sort.startsWith("-");
  const key = sort.replace(/^-/, "").replace(/ (asc|desc)$/, "");
  const sign = desc || sort.endsWith(" desc") ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === undefined || x === null) return 1;
    if (y === undefined || y === null) return -1;
    if (typeof x === "number" && typeof y === "number") return sign * (x - y);
    return sign * String(x).localeCompare(String(y));
  });
}

const REPORT_FILTER = "this static report holds the versions chosen when it was written " +
  "(tracker report --where ...); filtering needs `tracker ui`";

function reportApi(name, params) {
  const R = REPORT;
  const missing = (what) => { throw new Error(what + " is not in this report"); };
  switch (name) {
    case "info": return { ...R.info, report: true };
    case "series": return { rows: R.series };
    case "runs": {
      if (params.where) return { rows: [], total: 0, page: 1, pages: 1, error: { message: REPORT_FILTER, column: 0 } };
      return pageOf(sortRows(R.runs, params.sort || "-start_time"), params);
    }
    case "versions": {
      const all = R.versions[params.type + "/" + params.id];
      if (!all) throw new Error("no version of " + params.type + "/" + params.id + " is in this report");
      const columns = R.columns[params.type + "/" + params.id] || [];
      if (params.where) return { columns, rows: [], total: 0, page: 1, pages: 1, error: { message: REPORT_FILTER, column: 0 } };
      return { columns, sort: params.sort || "-version", ...pageOf(sortRows(all, params.sort || "-version"), params) };
    }
    case "version": return R.version[params.ref] || missing(params.ref);
    case "lineage": return R.lineage[params.ref] || missing("the lineage of " + params.ref);
    case "preview": return R.previews[params.ref + "\u0000" + params.id] || missing("artifact " + params.id);
    case "compare": return compareSubset(R.compare, (params.refs || "").split(",").filter(Boolean), params);
    case "metrics": {
      if (!R.info.metric_series) return { available: false, message: R.metrics.message, series: [] };
      const refs = new Set((params.refs || "").split(",").filter(Boolean));
      return { ...R.metrics, series: R.metrics.series.filter((s) => refs.has(s.ref)) };
    }
  }
  throw new Error("unknown page " + name);
}

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

function compareSubset(full, refs, params) {
  // The report holds one comparison of every version it has; take the chosen columns and
  // recompute what differs and which value is best, as the server would.
  const columns = refs.filter((r) => full.columns.includes(r));
  if (!columns.length) throw new Error("none of these versions is in this report");
  const rows = [];
  for (const row of full.rows) {
    const present = columns.filter((c) => c in row.values);
    if (!present.length) continue;
    const differs = present.length < columns.length || present.some((c) => !same(row.values[c], row.values[present[0]]));
    if (params.diff === "1" && !differs) continue;
    let best = [];
    const nums = present.filter((c) => typeof row.values[c] === "number");
    if (params.best && nums.length >= 2) {
      const pick = params.best === "min" ? Math.min : Math.max;
      const target = pick(...nums.map((c) => row.values[c]));
      best = nums.filter((c) => row.values[c] === target);
    }
    const values = {}, textv = {};
    for (const c of present) { values[c] = row.values[c]; textv[c] = row.text[c]; }
    rows.push({ key: row.key, values, text: textv, differs, best });
  }
  return { columns, rows, differences_only: params.diff === "1" };
}

// -- shared widgets ---------------------------------------------------------------------------
function filterBar(params, page, placeholder) {
  const input = h("input", { type: "text", name: "where", value: params.where || "", placeholder, "aria-label": "filter" });
  const form = h("form", {
    class: "bar",
    onsubmit: (e) => { e.preventDefault(); go(page, { ...params, where: input.value.trim(), page: "" }); },
  }, input, h("button", { type: "submit" }, "Filter"),
  params.where ? h("a", { href: hashOf(page, { ...params, where: "", page: "" }) }, "clear") : null);
  return form;
}

function errorBox(error, where) {
  if (!error) return null;
  const lines = [error.message];
  if (where && error.column > 0) lines.push(where, " ".repeat(error.column - 1) + "^ column " + error.column);
  return h("div", { class: "error", role: "alert" }, lines.join("\n"));
}

function pager(data, page, params) {
  const bar = h("div", { class: "bar" });
  if (data.page > 1) bar.append(link(page, { ...params, page: data.page - 1 }, "← previous"));
  bar.append(h("span", { class: "muted" }, `page ${data.page} of ${data.pages} (${data.total} in all)`));
  if (data.page < data.pages) bar.append(link(page, { ...params, page: data.page + 1 }, "next →"));
  return bar;
}

function sortHeader(label, column, params, page) {
  const current = params.sort || "";
  const asc = current === column, desc = current === "-" + column;
  return h("th", {
    class: "sortable" + (asc ? " sorted-asc" : desc ? " sorted-desc" : ""),
    title: "sort by " + column,
    onclick: () => go(page, { ...params, sort: desc ? column : "-" + column, page: "" }),
  }, label);
}

function cell(value) {
  const shown = text(value);
  return h("td", { class: typeof value === "number" ? "num" : "", title: shown.length > 30 ? shown : null }, shown);
}

function selectionBar(selected, extra) {
  const count = h("span", { class: "muted" }, "0 selected");
  const update = () => { count.textContent = selected.size + " selected"; };
  return {
    update,
    bar: h("div", { class: "bar" },
      h("button", { type: "button", onclick: () => go("compare", { refs: [...selected].join(","), diff: "1" }) }, "Compare selected"),
      extra ? h("button", { type: "button", onclick: () => go("metrics", { refs: [...selected].join(",") }) }, "Plot metrics") : null,
      count),
  };
}

// -- pages ------------------------------------------------------------------------------------
async function pageSeries() {
  const data = await api("series", {});
  const rows = data.rows.map((r) => h("tr", {},
    h("td", {}, r.type),
    h("td", {}, link("versions", { type: r.type, id: r.id }, r.id)),
    h("td", {}, link("version", { ref: r.latest_ref }, r.latest_ref)),
    cell(r.versions), h("td", {}, shortTime(r.latest_created_at))));
  return [h("h1", {}, "Resources"),
    rows.length ? h("table", {}, h("thead", {}, h("tr", {}, ["type", "id", "latest", "versions", "created (UTC)"].map((c) => h("th", {}, c)))), h("tbody", {}, rows))
      : h("p", { class: "muted" }, "no resources in this store")];
}

async function pageRuns(params) {
  const data = await api("runs", params);
  const selected = new Set();
  const sel = selectionBar(selected, false);
  const heads = [["", null], ["run", "id"], ["name", "name"], ["status", "status"], ["start (UTC)", "start_time"],
    ["duration", null], ["commit", null], ["git", null]];
  const rows = data.rows.map((r) => h("tr", {},
    h("td", {}, h("input", { type: "checkbox", "aria-label": "select " + r.id, onchange: (e) => { e.target.checked ? selected.add(r.id) : selected.delete(r.id); sel.update(); } })),
    h("td", { class: "mono" }, r.id), h("td", {}, text(r.name)), h("td", {}, text(r.status)),
    h("td", {}, shortTime(r.start_time)), h("td", { class: "num" }, humanDuration(r.duration_s)),
    h("td", { class: "mono" }, r.git_commit ? r.git_commit.slice(0, 8) : "-"),
    h("td", {}, r.git_dirty === null || r.git_dirty === undefined ? "-" : r.git_dirty ? "dirty" : "clean")));
  return [h("h1", {}, "Runs"), filterBar(params, "runs", "status = 'FAILED'"), errorBox(data.error, params.where),
    sel.bar,
    h("table", { id: "runs", class: "wide" }, h("thead", {}, h("tr", {}, heads.map(([l, c]) => c ? sortHeader(l, c, params, "runs") : h("th", {}, l)))), h("tbody", {}, rows)),
    pager(data, "runs", params)];
}

async function pageVersions(params) {
  const data = await api("versions", params);
  const selected = new Set();
  const sel = selectionBar(selected, true);
  const p = { type: params.type, id: params.id, where: params.where || "", sort: params.sort || "" };
  const columns = data.columns.filter((c) => c !== "ref");
  const head = h("tr", {}, h("th", {}, ""), sortHeader("ref", "version", p, "versions"),
    columns.filter((c) => c !== "version").map((c) => sortHeader(c, c, p, "versions")));
  const rows = data.rows.map((r) => h("tr", {},
    h("td", {}, h("input", { type: "checkbox", "aria-label": "select " + r.ref, onchange: (e) => { e.target.checked ? selected.add(r.ref) : selected.delete(r.ref); sel.update(); } })),
    h("td", {}, link("version", { ref: r.ref }, r.ref)),
    columns.filter((c) => c !== "version").map((c) => cell(c === "created_at" ? shortTime(r[c]) : r[c]))));
  return [h("h1", {}, params.type + "/" + params.id),
    filterBar(p, "versions", "tags.status = 'DEPLOYED' and metadata.f1 >= 0.8"), errorBox(data.error, params.where),
    sel.bar,
    h("div", { class: "scroll" }, h("table", { id: "versions", class: "wide" }, h("thead", {}, head), h("tbody", {}, rows))),
    data.rows.length ? null : h("p", { class: "muted" }, "no versions match"),
    pager(data, "versions", p)];
}

function nested(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const dl = h("dl", { class: "nested" });
    for (const [k, v] of Object.entries(value)) dl.append(h("dt", {}, k), h("dd", {}, nested(v)));
    return dl;
  }
  return h("span", {}, Array.isArray(value) ? "[" + value.map(text).join(", ") + "]" : text(value));
}

function pairs(title, obj, id) {
  const entries = Object.entries(obj || {});
  return [h("h2", {}, title), entries.length
    ? h("table", { id }, h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, nested(v))))))
    : h("p", { class: "muted" }, "(none)")];
}

function refList(title, refs) {
  return [h("h2", {}, `${title} (${refs.length})`), refs.length
    ? h("ul", {}, refs.map((r) => h("li", {}, link("version", { ref: r }, r)))) : h("p", { class: "muted" }, "(none)")];
}

async function artifactBox(ref, aid, art) {
  const box = h("div", { class: "artifact preview", "data-artifact": aid });
  box.append(h("p", { class: "muted" }, "loading preview…"));
  try {
    const p = await api("preview", { ref, id: aid });
    box.textContent = "";
    const dl = p.url ? h("a", { href: p.url + (REPORT ? "" : "&download=1"), download: p.name || art.name }, "download " + (p.name || art.name)) : null;
    if (p.kind === "image") box.append(h("img", { src: p.url, alt: aid + " (" + p.name + ")" }));
    else if (p.kind === "html") box.append(h("iframe", { src: p.url, sandbox: "", title: aid, referrerpolicy: "no-referrer" }));
    else if (p.kind === "csv") box.append(h("table", { class: "csv" }, (p.rows || []).map((r, i) => h("tr", {}, r.map((c) => h(i ? "td" : "th", {}, c))))));
    else if (p.kind === "text") box.append(h("pre", {}, p.text));
    else if (p.note) box.append(h("p", { class: "muted" }, p.note));
    if (dl) box.append(h("div", {}, dl));
    if (p.files && p.files.length > 1) box.append(h("ul", {}, p.files.map((f) => h("li", {}, h("a", { href: f.url }, f.name)))));
  } catch (err) {
    box.textContent = "";
    box.append(h("p", { class: "error" }, "preview failed: " + err.message));
  }
  return box;
}

async function pageVersion(params) {
  const v = await api("version", { ref: params.ref });
  const identity = { type: v.type, id: v.id, version: v.version, run: v.run_id, created: shortTime(v.created_at), parent: v.parent || "-" };
  const arts = Object.entries(v.artifacts || {});
  const out = [h("h1", {}, v.ref),
    h("div", { class: "bar" }, link("lineage", { ref: v.ref }, "lineage graph"),
      v.version > 1 ? link("compare", { refs: `${v.type}/${v.id}@${v.version - 1},${v.ref}`, diff: "1" }, "compare with previous") : null,
      link("versions", { type: v.type, id: v.id }, "all versions")),
    h("div", { class: "grid" },
      h("section", {}, ...pairs("identity", identity, "identity")), h("section", {}, ...pairs("tags", v.tags, "tags")),
      h("section", {}, ...pairs("metadata", v.metadata, "metadata")), h("section", {}, ...pairs("attributes", v.attrs, "attrs")))];
  if (v.metrics && Object.keys(v.metrics).length) out.push(...pairs("metrics (last values)", v.metrics, "metrics"));
  out.push(h("h2", {}, `artifacts (${arts.length})`));
  if (arts.length) {
    out.push(h("table", { id: "artifacts" }, h("thead", {}, h("tr", {}, ["id", "name", "kind", "files", "size", "sha256"].map((c) => h("th", {}, c)))),
      h("tbody", {}, arts.map(([aid, a]) => h("tr", {}, h("td", {}, aid), h("td", {}, text(a.name)), h("td", {}, text(a.kind)),
        cell(a.files), h("td", { class: "num", title: String(a.size) }, humanSize(a.size)), h("td", { class: "mono" }, text(a.sha256)))))));
    for (const [aid, a] of arts) {
      out.push(h("h2", {}, aid));
      out.push(await artifactBox(v.ref, aid, a));
    }
  } else out.push(h("p", { class: "muted" }, "(none)"));
  out.push(...refList("children", v.children || []), ...refList("trained on", v.lineage || []), ...refList("used by", v.used_by || []));
  return out;
}

// Lineage: upstream levels to the left, the version in the middle, downstream to the right.
function levels(tree, sign) {
  const cols = new Map(), edges = [];
  const walk = (node, depth) => {
    for (const l of node.links || []) {
      const d = depth + 1;
      if (!cols.has(d * sign)) cols.set(d * sign, []);
      const col = cols.get(d * sign);
      if (!col.some((n) => n.ref === l.ref)) col.push({ ref: l.ref, relation: l.relation });
      edges.push(sign < 0 ? [l.ref, node.ref, l.relation] : [node.ref, l.ref, l.relation]);
      walk(l, d);
    }
  };
  if (tree) walk(tree, 0);
  return { cols, edges };
}

async function pageLineage(params) {
  const data = await api("lineage", { ref: params.ref });
  const up = levels(data.up, -1), down = levels(data.down, 1);
  const cols = new Map([[0, [{ ref: data.ref, relation: "self" }]], ...up.cols, ...down.cols]);
  const keys = [...cols.keys()].sort((a, b) => a - b);
  const W = 310, H = 34, GAPX = 90, GAPY = 14;
  const pos = new Map();
  const tallest = Math.max(...keys.map((k) => cols.get(k).length));
  keys.forEach((k, ci) => cols.get(k).forEach((n, ri) => {
    const key = k + "|" + n.ref;
    pos.set(key, { x: 10 + ci * (W + GAPX), y: 30 + ri * (H + GAPY), node: n, col: k });
  }));
  const find = (ref, near) => {
    let best = null;
    for (const p of pos.values()) if (p.node.ref === ref && (best === null || Math.abs(p.col - near) < Math.abs(best.col - near))) best = p;
    return best;
  };
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs, content) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (content !== undefined) el.textContent = content;
    return el;
  };
  const width = 20 + keys.length * (W + GAPX), height = 40 + tallest * (H + GAPY);
  const svg = svgEl("svg", { class: "lineage", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "lineage of " + data.ref });
  keys.forEach((k, ci) => svg.append(svgEl("text", { x: 10 + ci * (W + GAPX), y: 16, fill: "#6e7781" },
    k < 0 ? `upstream ${-k}` : k > 0 ? `downstream ${k}` : "this version")));
  const sign = (from, edges) => edges.some((e) => e[0] === from);  // upstream: label at its source
  for (const [from, to, rel] of [...up.edges, ...down.edges]) {
    const a = find(from, 0), b = find(to, 0);
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    svg.append(svgEl("path", { d: `M${x1},${y1} C${x1 + GAPX / 2},${y1} ${x2 - GAPX / 2},${y2} ${x2},${y2}` }));
    const labelX = sign(from, up.edges) ? x1 + 4 : x2 - 62;
    const labelY = sign(from, up.edges) ? y1 - 4 : y2 - 4;
    svg.append(svgEl("text", { x: labelX, y: labelY, fill: "#8c959f", "font-size": "10" }, rel.replace("_", " ")));
  }
  for (const p of pos.values()) {
    const a = svgEl("a", { href: hashOf("version", { ref: p.node.ref }), class: p.col === 0 ? "self" : "node" });
    a.append(svgEl("rect", { x: p.x, y: p.y, width: W, height: H, rx: 5 }));
    const label = p.node.ref.length > 40 ? p.node.ref.slice(0, 39) + "…" : p.node.ref;
    a.append(svgEl("text", { x: p.x + 8, y: p.y + H / 2 + 4 }, label));
    a.append(svgEl("title", {}, p.node.ref + (p.col ? " (" + p.node.relation + ")" : "")));
    svg.append(a);
  }
  return [h("h1", {}, "lineage of " + data.ref),
    h("div", { class: "bar" }, link("version", { ref: data.ref }, "back to the version")),
    h("div", { style: "overflow:auto" }, svg)];
}

async function pageCompare(params) {
  const refs = (params.refs || "").split(",").filter(Boolean);
  const out = [h("h1", {}, "Compare")];
  const refsInput = h("input", { type: "text", value: refs.join(","), "aria-label": "refs", placeholder: "model_version/titanic@1,model_version/titanic@2" });
  out.push(h("form", { class: "bar", onsubmit: (e) => { e.preventDefault(); go("compare", { ...params, refs: refsInput.value.replace(/\s+/g, "") }); } },
    refsInput, h("button", { type: "submit" }, "Compare")));
  if (!refs.length) {
    out.push(h("p", { class: "muted" }, "select versions in a version table (or runs) and press “Compare selected”, or list refs above"));
    return out;
  }
  const data = await api("compare", params);
  const diff = h("input", { type: "checkbox", id: "diff-only", checked: params.diff === "1", onchange: (e) => go("compare", { ...params, diff: e.target.checked ? "1" : "" }) });
  const best = h("select", { id: "best", "aria-label": "best value", onchange: (e) => go("compare", { ...params, best: e.target.value }) },
    ["", "max", "min"].map((o) => h("option", { value: o, selected: (params.best || "") === o }, o ? "best = " + o : "no best marker")));
  out.push(h("div", { class: "bar" }, h("label", {}, diff, " differences only"), best,
    link("metrics", { refs: refs.join(",") }, "plot metrics")));
  const rows = data.rows.map((r) => h("tr", { class: r.differs && !data.differences_only ? "differs" : "" },
    h("th", {}, r.key),
    data.columns.map((c) => {
      const present = c in r.values;
      const isBest = (r.best || []).includes(c);
      return h("td", { class: (isBest ? "best " : "") + (typeof r.values[c] === "number" ? "num" : "") },
        present ? r.text[c] : "(absent)", isBest ? " ★" : "");
    })));
  out.push(h("table", { id: "compare" }, h("thead", {}, h("tr", {}, h("th", {}, "key"),
    data.columns.map((c) => h("th", {}, c.includes("/") ? link("version", { ref: c }, c) : c)))), h("tbody", {}, rows)));
  if (!data.rows.length) out.push(h("p", { class: "muted" }, data.differences_only ? "no differences" : "nothing to compare"));
  return out;
}

function smooth(ys, alpha) {
  if (!alpha) return ys;
  let last = null;
  return ys.map((y) => (last = last === null ? y : alpha * last + (1 - alpha) * y));
}

async function pageMetrics(params) {
  const out = [h("h1", {}, "Metrics")];
  if (!INFO.metric_series) {
    out.push(h("p", { class: "muted", id: "no-metrics" }, "no metric series in this store version"));
    return out;
  }
  const data = await api("metrics", params);
  const controls = h("div", { class: "bar" },
    h("label", {}, "x ", h("select", { onchange: (e) => go("metrics", { ...params, x: e.target.value }) },
      ["step", "time"].map((o) => h("option", { value: o, selected: (params.x || "step") === o }, o)))),
    h("label", {}, "smoothing ", h("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: params.smooth || 0,
      onchange: (e) => go("metrics", { ...params, smooth: e.target.value }) })),
    h("label", {}, h("input", { type: "checkbox", checked: params.logy === "1", onchange: (e) => go("metrics", { ...params, logy: e.target.checked ? "1" : "" }) }), " log y"));
  out.push(controls);
  if (!data.series.length) { out.push(h("p", { class: "muted" }, data.message || "no points")); return out; }
  const byKey = new Map();
  for (const s of data.series) { if (!byKey.has(s.key)) byKey.set(s.key, []); byKey.get(s.key).push(s); }
  const colors = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#57606a"];
  for (const [key, list] of byKey) {
    const box = h("div", { class: "chart", "data-key": key });
    out.push(h("h2", {}, key), box);
    const xs = [...new Set(list.flatMap((s) => s.x))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const ys = list.map((s) => {
      const col = new Array(xs.length).fill(null);
      const sm = smooth(s.y, Number(params.smooth) || 0);
      s.x.forEach((x, i) => { col[index.get(x)] = sm[i]; });
      return col;
    });
    requestAnimationFrame(() => {
      if (typeof uPlot === "undefined") { box.append(h("p", { class: "error" }, "chart library missing")); return; }
      new uPlot({
        width: 720, height: 260, scales: { x: { time: params.x === "time" }, y: { distr: params.logy === "1" ? 3 : 1 } },
        series: [{ label: params.x || "step" }, ...list.map((s, i) => ({ label: s.ref, stroke: colors[i % colors.length], spanGaps: true }))],
      }, [xs, ...ys], box);
    });
  }
  return out;
}

const PAGES = { series: pageSeries, runs: pageRuns, versions: pageVersions, version: pageVersion, lineage: pageLineage, compare: pageCompare, metrics: pageMetrics };

async function render() {
  const { page, params } = route();
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.dataset.page === page);
  const fn = PAGES[page] || pageSeries;
  main.dataset.ready = "";
  try {
    if (!INFO) {
      INFO = await api("info", {});
      document.getElementById("root").textContent = (INFO.report ? "report of " : "") + INFO.root;
    }
    const nodes = await fn(params);
    main.replaceChildren(...nodes.filter(Boolean));
    document.title = "tracker · " + (params.ref || params.id || page);
    main.dataset.ready = page;
  } catch (err) {
    main.replaceChildren(h("h1", {}, "error"), h("p", { class: "error", role: "alert" }, err.message));
    main.dataset.ready = "error";
  }
}

window.addEventListener("hashchange", render);
render();
