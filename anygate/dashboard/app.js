// The anygate dashboard: logs in with the admin key (kept in this tab's sessionStorage) and draws
// what the admin API answers. No third-party code: tables are plain DOM, charts are inline SVG.
"use strict";

const COLOURS = ["#3b5bdb", "#2b8a3e", "#e8590c", "#ae3ec9", "#1098ad", "#f08c00", "#c92a2a", "#5c940d"];
const DAYS = 14;
const $ = (id) => document.getElementById(id);
const state = { keys: [], days: [], names: {}, models: [] };

function adminKey() { return sessionStorage.getItem("anygate-admin-key"); }

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (adminKey()) headers.Authorization = "Bearer " + adminKey();
  const response = await fetch("/admin/v1" + path, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || ("HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

// A table cell, labelled with its column's heading (a phone shows each row as a card of labelled lines).
function cell(row, text, className) {
  const td = labelled(row.insertCell());
  td.textContent = text === null || text === undefined || text === "" ? "–" : String(text);
  if (className) td.className = className;
  return td;
}

function labelled(td) {
  const heading = td.closest("table").tHead.rows[0].cells[td.cellIndex];
  if (heading && heading.textContent) td.dataset.label = heading.textContent;
  return td;
}

function emptyRow(rows, text) {
  const td = rows.insertRow().insertCell();
  td.textContent = text;
  td.colSpan = rows.closest("table").tHead.rows[0].cells.length;
  td.className = "empty";
}

function when(seconds) { return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19); }
// Dollars to 4 decimals; a fraction of a cent to its first significant digits (a short call costs $0.0000135).
function usd(value) {
  if (value === null || value === undefined) return "–";
  const amount = Number(value);
  if (amount === 0 || Math.abs(amount) >= 0.0001) return "$" + amount.toFixed(4);
  return "$" + amount.toFixed(8).replace(/0+$/, "");
}
function ms(value) { return value === null || value === undefined ? "–" : Number(value).toFixed(1) + " ms"; }
function statusClass(status) { return status < 400 ? "status-ok" : "status-bad"; }
function shorten(text, length) { return text && text.length > length ? text.slice(0, length - 1) + "…" : text; }

function lastDays() {
  const days = [];
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = DAYS - 1; i >= 0; i--) days.push(new Date(today - i * 86400000).toISOString().slice(0, 10));
  return days;
}

// A round step for about four gridlines up to `top`: 1, 2 or 5 times a power of ten.
function niceStep(top) {
  const rough = top / 4;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

function svgElement(name, attributes, text) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

// One stacked bar per day, each series (model or key) a colour, drawn at the container's own width so
// its text stays readable on a phone: a y axis with round gridlines and their values, the days along
// the x axis, each day's total above its bar. Every segment carries its numbers in data-* attributes.
function barChart(container, rows, seriesOf, valueOf, format) {
  const days = lastDays();
  const series = [...new Set(rows.map(seriesOf))].sort();
  const totals = {};
  for (const row of rows) {
    const key = row.day + "|" + seriesOf(row);
    totals[key] = (totals[key] || 0) + valueOf(row);
  }
  const dayTotals = days.map((day) => series.reduce((sum, s) => sum + (totals[day + "|" + s] || 0), 0));
  const step = niceStep(Math.max(...dayTotals) || 1);
  const top = Math.ceil((Math.max(...dayTotals) || 1) / step) * step;
  const width = Math.max(container.clientWidth, 280), height = 220;
  const left = 12 + 6.5 * format(top, step).length, right = 8, upper = 18, base = height - 24;  // room for the widest y label
  const slot = (width - left - right) / DAYS, barWidth = Math.max(slot - 6, 2);
  const y = (value) => base - (value / top) * (base - upper);
  const svg = svgElement("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (let value = 0; value <= top + step / 2; value += step) {
    svg.append(svgElement("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }));
    svg.append(svgElement("text", { x: left - 6, y: y(value) + 4, class: "axis y-label", "text-anchor": "end" }, format(value, step)));
  }
  const labelEvery = Math.ceil(34 / slot);  // a date label needs about 34 px
  days.forEach((day, i) => {
    const x = left + i * slot + (slot - barWidth) / 2;
    let stacked = 0;
    series.forEach((name, j) => {
      const value = totals[day + "|" + name] || 0;
      if (!value) return;
      const rect = svgElement("rect", { x, y: y(stacked + value), width: barWidth, height: y(stacked) - y(stacked + value), fill: COLOURS[j % COLOURS.length] });
      rect.dataset.series = name; rect.dataset.day = day; rect.dataset.value = String(value);
      rect.append(svgElement("title", {}, `${name} on ${day}: ${format(value)}`));
      svg.append(rect);
      stacked += value;
    });
    if (stacked && slot >= 30) {
      const total = svgElement("text", { x: x + barWidth / 2, y: y(stacked) - 4, class: "value", "text-anchor": "middle" }, format(stacked));
      total.dataset.day = day;
      svg.append(total);
    }
    if ((DAYS - 1 - i) % labelEvery === 0) {
      svg.append(svgElement("text", { x: x + barWidth / 2, y: height - 6, class: "axis x-label", "text-anchor": "middle" }, day.slice(5)));
    }
  });
  svg.append(svgElement("line", { x1: left, x2: width - right, y1: base, y2: base, class: "baseline" }));
  const legend = document.createElement("div");
  legend.className = "legend";
  if (!series.length) legend.textContent = "Nothing in the last 14 days yet.";
  series.forEach((name, j) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = COLOURS[j % COLOURS.length];
    item.append(swatch, name);
    legend.append(item);
  });
  container.replaceChildren(svg, legend);
}

function count(value, step) {
  if (step !== undefined && step < 1) return value.toFixed(1);
  return value >= 10000 ? (value / 1000).toFixed(0) + "k" : String(Math.round(value));
}

// An axis value to as many decimals as its step needs; any other amount as `usd` writes it.
function money(value, step) {
  if (step === undefined) return usd(value);
  return "$" + value.toFixed(Math.min(Math.max(0, -Math.floor(Math.log10(step))), 8));
}

function drawCharts() {
  barChart($("chart-models"), state.days, (r) => r.model, (r) => r.requests, count);
  barChart($("chart-keys"), state.days, (r) => state.names[r.key_id] || r.key_id, (r) => r.cost_usd, money);
}

function budgetCell(row, key) {
  const td = labelled(row.insertCell());
  td.className = "budget";
  const spent = usd(key.spent_usd);
  if (key.budget_usd === null) {
    td.textContent = spent + " (no budget)";
    return;
  }
  const share = key.budget_usd > 0 ? key.spent_usd / key.budget_usd : 1;
  const bar = document.createElement("span");
  bar.className = "bar " + (share >= 1 ? "over" : share >= 0.8 ? "near" : "");
  const fill = document.createElement("i");
  fill.style.width = Math.min(share * 100, 100) + "%";
  bar.append(fill);
  td.append(bar, `${spent} of ${usd(key.budget_usd)} (${Math.round(share * 100)}%)`);
  td.dataset.share = String(share);
}

function drawKeys() {
  const rows = $("keys").tBodies[0];
  rows.replaceChildren();
  for (const k of state.keys) {
    const row = rows.insertRow();
    row.dataset.keyId = k.id;
    cell(row, k.name); cell(row, k.id, "mono");
    cell(row, k.models ? k.models.join(", ") : "all");
    cell(row, k.rpm === null && k.tpm === null ? null : `${k.rpm ?? "-"} / ${k.tpm ?? "-"}`, "num");
    cell(row, k.rpd === null && k.tpd === null ? null : `${k.rpd ?? "-"} req / ${k.tpd ?? "-"} tok`, "num");
    cell(row, k.max_concurrency === null ? String(k.in_flight) : `${k.in_flight} of ${k.max_concurrency}`, "num in-flight");
    budgetCell(row, k);
    cell(row, k.status, k.status === "active" ? "status-ok" : "status-bad");
    const actions = row.insertCell();
    actions.className = "row-actions";
    if (k.status === "revoked") continue;
    const edit = document.createElement("button");
    edit.textContent = "Edit";
    edit.className = "edit plain";
    edit.onclick = () => openKeyEditor(k);
    const revoke = document.createElement("button");
    revoke.textContent = "Revoke";
    revoke.className = "revoke danger";
    revoke.onclick = async () => {
      if (!confirm(`Revoke ${k.name} (${k.id})?`)) return;
      await api("/keys/" + k.id, { method: "DELETE" });
      await refresh();
    };
    actions.append(edit, revoke);
  }
}

function drawProviders(providers) {
  const rows = $("providers").tBodies[0];
  rows.replaceChildren();
  for (const p of providers) {
    const row = rows.insertRow();
    row.dataset.provider = p.name;
    cell(row, p.name); cell(row, p.type);
    cell(row, p.health, "health health-" + p.health);
    const targets = labelled(row.insertCell());
    targets.className = "targets";
    for (const t of p.targets) {
      const line = document.createElement("div");
      line.textContent = `${t.model} → ${t.upstream_model}: ${t.breaker.state.replace("_", "-")}` + (t.breaker.failures ? ` (${t.breaker.failures} failures)` : "");
      line.className = "breaker breaker-" + t.breaker.state;
      targets.append(line);
    }
    if (!p.targets.length) targets.textContent = "no models";
    cell(row, p.recent.requests, "num"); cell(row, p.recent.failures, "num");
    cell(row, p.recent.mean_latency_ms, "num");
    const last = p.recent.last_failure;
    cell(row, last ? `${when(last.created_at)} ${last.status} ${shorten(last.error || "", 120)}` : null, last ? "status-bad wrap" : "");
  }
}

// The choices of a filter, rebuilt only when they changed (a list open in someone's hand stays put).
function fillSelect(select, options) {
  const wanted = JSON.stringify(options);
  if (select.dataset.options === wanted) return;
  select.dataset.options = wanted;
  const chosen = select.value;
  select.replaceChildren(new Option("any", ""), ...options.map(([value, label]) => new Option(label, value)));
  select.value = options.some(([value]) => value === chosen) ? chosen : "";
}

function isoFromLocal(value) { return value ? new Date(value + "Z").toISOString() : ""; }  // the inputs are read as UTC

function requestQuery() {
  const query = new URLSearchParams({ limit: "100" });
  for (const [name, id] of [["key_id", "filter-key"], ["model", "filter-model"], ["status", "filter-status"]]) {
    if ($(id).value) query.set(name, $(id).value);
  }
  if ($("filter-since").value) query.set("since", isoFromLocal($("filter-since").value));
  if ($("filter-until").value) query.set("until", isoFromLocal($("filter-until").value));
  return query.toString();
}

function drawRequests(calls) {
  const rows = $("requests").tBodies[0];
  rows.replaceChildren();
  for (const r of calls) {
    const row = rows.insertRow();
    row.dataset.requestId = r.request_id;
    row.dataset.status = String(r.status);
    row.className = "clickable";
    row.onclick = () => openRequest(r.request_id, r.created_at);
    cell(row, when(r.created_at)); cell(row, r.request_id, "mono"); cell(row, state.names[r.key_id] || r.key_id);
    cell(row, r.public_model); cell(row, r.provider);
    cell(row, r.status, statusClass(r.status));
    cell(row, Number(r.latency_ms).toFixed(1), "num");
    cell(row, r.metered ? `${r.input_tokens} / ${r.output_tokens}` : null, "num"); cell(row, r.metered ? usd(r.cost_usd) : null, "num");
    cell(row, shorten(r.error, 90), r.error ? "status-bad wrap" : "");
  }
  if (!calls.length) emptyRow(rows, "No requests match.");
}

function drawTasks(tasks) {
  const rows = $("tasks").tBodies[0];
  rows.replaceChildren();
  for (const t of tasks) {
    const row = rows.insertRow();
    cell(row, when(t.created_at)); cell(row, t.id, "mono"); cell(row, t.family); cell(row, t.public_model);
    cell(row, t.state, t.state === "failed" ? "status-bad" : "status-ok");
    cell(row, t.progress + "%", "num"); cell(row, usd(t.cost_usd), "num");
  }
  if (!tasks.length) emptyRow(rows, "No tasks yet.");
}

async function load() {
  const since = new Date(Date.now() - DAYS * 86400000).toISOString();
  const [keys, days, recent, tasks, providers] = await Promise.all([
    api("/keys"), api("/usage?group=day&since=" + encodeURIComponent(since)),
    api("/requests?" + requestQuery()), api("/tasks?limit=50"), api("/providers"),
  ]);
  state.keys = keys.data;
  state.days = days.data;
  state.names = Object.fromEntries(keys.data.map((k) => [k.id, k.name]));
  state.models = [...new Set(providers.data.flatMap((p) => p.targets.map((t) => t.model)))].sort();
  fillSelect($("filter-key"), keys.data.map((k) => [k.id, `${k.name} (${k.id})`]));
  fillSelect($("filter-model"), state.models.map((m) => [m, m]));
  drawCharts();
  drawProviders(providers.data);
  drawKeys();
  drawRequests(recent.data);
  drawTasks(tasks.data);
  $("status").textContent = "updated " + new Date().toLocaleTimeString();
}

async function refresh() {
  try {
    await load();
  } catch (error) {
    if (error.status === 401) return logout("The admin key was refused.");
    $("status").textContent = "refresh failed: " + error.message;
  }
}

function show(loggedIn) {
  $("login").hidden = loggedIn;
  $("app").hidden = !loggedIn;
  $("refresh").hidden = !loggedIn;
  $("logout").hidden = !loggedIn;
}

function logout(message) {
  sessionStorage.removeItem("anygate-admin-key");
  $("admin-key").value = "";
  $("status").textContent = "";
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  show(false);
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
}

async function login(event) {
  event.preventDefault();
  sessionStorage.setItem("anygate-admin-key", $("admin-key").value.trim());
  $("admin-key").value = "";
  try {
    await api("/keys");
  } catch (error) {
    return logout(error.status === 401 ? "That admin key was refused." : "Login failed: " + error.message);
  }
  $("login-error").hidden = true;
  show(true);
  await refresh();
}

// Before anyone logs in: a gateway without an admin key answers 404 with how to set one.
async function checkAdminApi() {
  try {
    await fetch("/admin/v1/endpoints").then(async (response) => {
      if (response.status !== 404) return;
      const body = await response.json().catch(() => ({}));
      $("admin-disabled").textContent = (body.error && body.error.message) || "The admin API is disabled: set admin_key in the configuration file and restart the gateway.";
      $("admin-disabled").hidden = false;
      for (const element of $("login-form").elements) element.disabled = true;
    });
  } catch (error) {
    $("login-error").textContent = "The gateway does not answer: " + error.message;
    $("login-error").hidden = false;
  }
}

function numberOrNull(id) { return $(id).value === "" ? null : Number($(id).value); }
function modelsOf(id) {
  const models = $(id).value.split(",").map((m) => m.trim()).filter(Boolean);
  return models.length ? models : null;
}

async function createKey(event) {
  event.preventDefault();
  const body = { name: $("new-key-name").value.trim(), models: modelsOf("new-key-models") };
  for (const [field, id] of [["rpm", "new-key-rpm"], ["tpm", "new-key-tpm"], ["rpd", "new-key-rpd"], ["tpd", "new-key-tpd"], ["budget_usd", "new-key-budget"]]) {
    body[field] = numberOrNull(id);
  }
  try {
    const created = await api("/keys", { method: "POST", body: JSON.stringify(body) });
    $("new-key-value").textContent = created.key;
    $("new-key-secret").textContent = created.webhook_secret;
    $("new-key").hidden = false;
    $("create-form").reset();
    await refresh();
  } catch (error) {
    $("status").textContent = "could not create the key: " + error.message;
  }
}

const EDITED = [["rpm", "edit-rpm"], ["tpm", "edit-tpm"], ["rpd", "edit-rpd"], ["tpd", "edit-tpd"], ["max_concurrency", "edit-concurrency"], ["budget_usd", "edit-budget"]];

function openKeyEditor(key) {
  $("key-form").dataset.keyId = key.id;
  $("edit-key-id").textContent = `${key.name} (${key.id})`;
  $("edit-name").value = key.name;
  $("edit-models").value = key.models ? key.models.join(", ") : "";
  for (const [field, id] of EDITED) $(id).value = key[field] ?? "";
  $("edit-error").hidden = true;
  $("key-dialog").showModal();
}

async function saveKey(event) {
  event.preventDefault();
  const body = { name: $("edit-name").value.trim(), models: modelsOf("edit-models") };
  for (const [field, id] of EDITED) body[field] = numberOrNull(id);
  try {
    await api("/keys/" + $("key-form").dataset.keyId, { method: "PATCH", body: JSON.stringify(body) });
  } catch (error) {
    $("edit-error").textContent = error.message;
    $("edit-error").hidden = false;
    return;
  }
  $("key-dialog").close();
  await refresh();
}

async function openRequest(requestId, at) {
  let r;
  try {
    r = await api("/requests/" + encodeURIComponent(requestId) + "?at=" + at);
  } catch (error) {
    $("status").textContent = "could not load the request: " + error.message;
    return;
  }
  $("detail-id").textContent = r.request_id;
  const overhead = r.upstream_ms === null ? null : (r.first_byte_ms ?? r.latency_ms) - r.upstream_ms;
  const facts = [
    ["time (UTC)", when(r.created_at)],
    ["key", r.key_id ? `${state.names[r.key_id] || "?"} (${r.key_id})` : "none (not authenticated)"],
    ["family", r.family + (r.route ? ` — ${r.method} ${r.route}` : "")],
    ["model", r.public_model],
    ["answered by", r.provider ? `${r.provider} (${r.upstream_model})` : "no upstream was called"],
    ["status", r.status],
    ["error", r.error],
    ["total time", ms(r.latency_ms)],
    ["waiting on upstreams", r.upstream_ms === null && r.metered ? "all but the gateway's share (a plain call keeps no split)" : ms(r.upstream_ms)],
    ["first byte of the stream", ms(r.first_byte_ms)],
    ["gateway's own time", overhead === null ? null : ms(Math.max(overhead, 0))],
    ["attempts", r.attempts],
    ["tokens in / out", r.metered ? `${r.input_tokens} / ${r.output_tokens}` + (r.estimated ? " (estimated)" : "") : null],
    ["cached tokens read / written", r.metered ? `${r.cached_tokens} / ${r.cache_write_tokens}` : null],
    ["cost", r.metered ? usd(r.cost_usd) : "nothing (refused before any upstream)"],
  ];
  const list = $("detail");
  list.replaceChildren();
  for (const [term, value] of facts) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined || value === "" ? "–" : String(value);
    if (term === "status" || term === "error") dd.className = r.status < 400 ? "status-ok" : "status-bad";
    dd.dataset.term = term;
    list.append(dt, dd);
  }
  const failures = $("detail-failures");
  failures.hidden = !r.failures.length;
  const rows = failures.querySelector("tbody");
  rows.replaceChildren();
  for (const f of r.failures) {
    const row = rows.insertRow();
    cell(row, f.provider); cell(row, f.model); cell(row, f.status, "status-bad"); cell(row, f.ms, "num"); cell(row, f.error);
  }
  $("request-dialog").showModal();
}

let resizing = null;

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("create-form").addEventListener("submit", createKey);
  $("key-form").addEventListener("submit", saveKey);
  $("edit-cancel").addEventListener("click", () => $("key-dialog").close());
  $("detail-close").addEventListener("click", () => $("request-dialog").close());
  $("filters").addEventListener("change", refresh);
  $("filter-clear").addEventListener("click", () => { $("filters").reset(); refresh(); });
  $("refresh").addEventListener("click", refresh);
  $("logout").addEventListener("click", () => logout());
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(() => { if (adminKey()) drawCharts(); }, 150); });
  if (adminKey()) { show(true); refresh(); } else { checkAdminApi(); }
  setInterval(() => { if (adminKey() && !document.querySelector("dialog[open]")) refresh(); }, 5000);
});
