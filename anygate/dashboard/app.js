// The anygate dashboard: logs in with the admin key (kept in this tab's sessionStorage) and draws
// what the admin API answers. No third-party code: tables are plain DOM, charts are inline SVG.
"use strict";

const COLOURS = ["#3b5bdb", "#2b8a3e", "#e8590c", "#ae3ec9", "#1098ad", "#f08c00", "#c92a2a", "#5c940d"];
const DAYS = 14;
const $ = (id) => document.getElementById(id);

function adminKey() { return sessionStorage.getItem("anygate-admin-key"); }

async function api(path, options = {}) {
  const response = await fetch("/admin/v1" + path, {
    ...options,
    headers: { "Authorization": "Bearer " + adminKey(), "Content-Type": "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || ("HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (className) td.className = className;
  return td;
}

function when(seconds) { return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19); }
function usd(value) { return value === null || value === undefined ? "–" : "$" + Number(value).toFixed(4); }

function lastDays() {
  const days = [];
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  for (let i = DAYS - 1; i >= 0; i--) days.push(new Date(today - i * 86400000).toISOString().slice(0, 10));
  return days;
}

// One stacked bar per day; each series (model or key) a colour. Every bar segment carries its numbers
// in data-* attributes, so tests and curious people can read the chart.
function barChart(container, rows, seriesOf, valueOf, label) {
  const days = lastDays();
  const series = [...new Set(rows.map(seriesOf))].sort();
  const totals = {};
  for (const row of rows) {
    const key = row.day + "|" + seriesOf(row);
    totals[key] = (totals[key] || 0) + valueOf(row);
  }
  const dayTotals = days.map((day) => series.reduce((sum, s) => sum + (totals[day + "|" + s] || 0), 0));
  const top = Math.max(...dayTotals, 0) || 1;
  const width = 700, height = 200, base = 180, barWidth = width / DAYS - 8;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  days.forEach((day, i) => {
    let y = base;
    const x = i * (width / DAYS) + 4;
    series.forEach((name, j) => {
      const value = totals[day + "|" + name] || 0;
      if (!value) return;
      const h = (value / top) * (base - 10);
      y -= h;
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", x); rect.setAttribute("y", y);
      rect.setAttribute("width", barWidth); rect.setAttribute("height", h);
      rect.setAttribute("fill", COLOURS[j % COLOURS.length]);
      rect.dataset.series = name; rect.dataset.day = day; rect.dataset.value = String(value);
      const title = document.createElementNS(ns, "title");
      title.textContent = `${name} on ${day}: ${label(value)}`;
      rect.appendChild(title);
      svg.appendChild(rect);
    });
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", x); text.setAttribute("y", height + 12);
    text.textContent = day.slice(5);
    svg.appendChild(text);
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  series.forEach((name, j) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = COLOURS[j % COLOURS.length];
    item.append(swatch, name);
    legend.appendChild(item);
  });
  container.replaceChildren(svg, legend);
}

async function load() {
  const since = new Date(Date.now() - DAYS * 86400000).toISOString();
  const [keys, totals, days, recent, tasks] = await Promise.all([
    api("/keys"), api("/usage"), api("/usage?group=day&since=" + encodeURIComponent(since)),
    api("/requests?limit=50"), api("/tasks?limit=50"),
  ]);
  const names = Object.fromEntries(keys.data.map((k) => [k.id, k.name]));
  const spent = {};
  for (const t of totals.data) spent[t.key_id] = t.key_spent_usd;

  barChart($("chart-models"), days.data, (r) => r.model, (r) => r.requests, (v) => v + " requests");
  barChart($("chart-keys"), days.data, (r) => names[r.key_id] || r.key_id, (r) => r.cost_usd, usd);

  const keyRows = $("keys").tBodies[0];
  keyRows.replaceChildren();
  for (const k of keys.data) {
    const row = keyRows.insertRow();
    row.dataset.keyId = k.id;
    cell(row, k.name); cell(row, k.id); cell(row, k.prefix + "…");
    cell(row, k.models ? k.models.join(", ") : "all");
    cell(row, k.rpm, "num"); cell(row, k.tpm, "num");
    cell(row, k.rpd === null && k.tpd === null ? null : `${k.rpd ?? "-"} req / ${k.tpd ?? "-"} tok`, "num");
    cell(row, k.max_concurrency, "num");
    cell(row, k.budget_usd === null ? null : usd(k.budget_usd), "num"); cell(row, usd(spent[k.id] || 0), "num");
    cell(row, k.status, k.status === "active" ? "status-ok" : "status-bad");
    const actions = row.insertCell();
    if (k.status === "active") {
      const revoke = document.createElement("button");
      revoke.textContent = "Revoke";
      revoke.className = "revoke";
      revoke.onclick = async () => {
        if (!confirm(`Revoke ${k.name} (${k.id})?`)) return;
        await api("/keys/" + k.id, { method: "DELETE" });
        await refresh();
      };
      actions.appendChild(revoke);
    }
  }

  const requestRows = $("requests").tBodies[0];
  requestRows.replaceChildren();
  for (const r of recent.data) {
    const row = requestRows.insertRow();
    row.dataset.requestId = r.request_id;
    cell(row, when(r.created_at)); cell(row, r.request_id); cell(row, names[r.key_id] || r.key_id);
    cell(row, r.public_model); cell(row, r.provider);
    cell(row, r.status, r.status < 400 ? "status-ok" : "status-bad");
    cell(row, Number(r.latency_ms).toFixed(1), "num");
    const cache = r.cached_tokens || r.cache_write_tokens ? ` (cache: ${r.cached_tokens} read, ${r.cache_write_tokens} written)` : "";
    cell(row, `${r.input_tokens} / ${r.output_tokens}${cache}`, "num"); cell(row, usd(r.cost_usd), "num");
  }

  const taskRows = $("tasks").tBodies[0];
  taskRows.replaceChildren();
  for (const t of tasks.data) {
    const row = taskRows.insertRow();
    cell(row, when(t.created_at)); cell(row, t.id); cell(row, t.family); cell(row, t.public_model);
    cell(row, t.state, t.state === "failed" ? "status-bad" : "status-ok");
    cell(row, t.progress + "%", "num"); cell(row, usd(t.cost_usd), "num");
  }
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
  show(false);
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
}

async function login(event) {
  event.preventDefault();
  sessionStorage.setItem("anygate-admin-key", $("admin-key").value.trim());
  try {
    await api("/keys");
  } catch (error) {
    return logout(error.status === 401 ? "That admin key was refused." : "Login failed: " + error.message);
  }
  $("login-error").hidden = true;
  show(true);
  await refresh();
}

async function createKey(event) {
  event.preventDefault();
  const body = { name: $("new-key-name").value.trim() };
  const models = $("new-key-models").value.split(",").map((m) => m.trim()).filter(Boolean);
  if (models.length) body.models = models;
  for (const [field, id] of [["rpm", "new-key-rpm"], ["tpm", "new-key-tpm"], ["rpd", "new-key-rpd"], ["tpd", "new-key-tpd"]]) {
    if ($(id).value) body[field] = parseInt($(id).value, 10);
  }
  if ($("new-key-budget").value) body.budget_usd = parseFloat($("new-key-budget").value);
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

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("create-form").addEventListener("submit", createKey);
  $("refresh").addEventListener("click", refresh);
  $("logout").addEventListener("click", () => logout());
  if (adminKey()) { show(true); refresh(); }
  setInterval(() => { if (adminKey()) refresh(); }, 5000);
});
