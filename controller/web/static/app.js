// The dashboard: one event stream from the charger, rendered with textContent only.
"use strict";

const CAR = {
  A: "no car plugged in", B: "car connected, not charging", C: "car charging",
  D: "car charging, needs ventilation", E: "no pilot (short or power loss)", F: "EVSE fault",
};
const SOURCE = {
  rating: "connector rating", driver: "EVSE hardware maximum", cable: "cable rating",
  supply_share: "share of the station supply", no_transaction: "no transaction",
  inoperative: "set inoperative", fault: "hardware fault", local_cap: "local cap on this charger",
  main_fuse: "main fuse", invalid_id_energy: "energy limit for an invalid card reached",
};
const HISTORY_S = 7200;
let csrf = null;
let history = {};
let charts = { history: null, schedule: null };
let lastDoc = null;

const $ = (id) => document.getElementById(id);
const fmtA = (a) => (a === null || a === undefined ? "–" : `${Number(a.toFixed(1))} A`);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };

function maskTag(tag) {
  if (!tag) return "–";
  return tag.length <= 4 ? "•".repeat(tag.length) : tag.slice(0, 2) + "•".repeat(tag.length - 4) + tag.slice(-2);
}

function duration(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${sec} s`;
}

function profileText(src) {
  if (!src) return "a profile";
  return `profile ${src.profile_id}, stack level ${src.stack_level} (${src.purpose})`;
}

// Which cap sets the limit, in words: "16 A — profile 1002, stack level 10 (TxProfile)".
function limitLine(c) {
  const src = c.limit_source;
  if (src === "profile" && c.limit) return `${fmtA(c.limit.value)} — ${profileText(c.limit.source)}`;
  if (src === "local_cap") return c.local.paused ? "0 A — paused on this charger" : `${fmtA(c.local.cap_a)} — local cap on this charger`;
  if (src === "rating") return `${fmtA(c.rating_a)} — connector rating`;
  if (src === "main_fuse" && c.limit_explanation) return `${fmtA(c.offered_a)} — ${c.limit_explanation}`;
  if (["no_transaction", "inoperative", "fault", "invalid_id_energy"].includes(src)) return `0 A — ${SOURCE[src]}`;
  return `${fmtA(c.offered_a)} — ${SOURCE[src] || "no limit"}`;
}

function headline(c) {
  const src = c.limit_source;
  if (c.fault) return `Fault: ${c.fault}`;
  if (c.cp_state === "A") return "No car plugged in";
  if (src === "inoperative") return "Out of service";
  if (!c.transaction) return "Car connected — waiting for authorisation";
  if (c.offered_a > 0) {
    return c.cp_state === "C" || c.cp_state === "D" ? `Charging ${fmtA(c.offered_a)}` : `Offering ${fmtA(c.offered_a)} — the car is not drawing`;
  }
  if (c.local.paused) return "Paused on this charger";
  if (src === "profile" && c.limit && c.limit.value !== null && c.limit.value < 6) {
    return `Paused by the back office — ${profileText(c.limit.source)}`;
  }
  if (src === "supply_share") return "Paused — the station supply is shared out";
  if (src === "main_fuse") return "Paused — the house needs the main fuse";
  return "Resuming — waiting for the pilot's minimum pause";
}

function renderConnector(c, now) {
  const card = el("section", undefined, "card");
  card.id = `connector-${c.id}`;
  card.append(el("h2", `Connector ${c.id} · ${c.driver}`));
  const h = el("p", headline(c), "headline"); h.id = `headline-${c.id}`; card.append(h);
  const l = el("p", limitLine(c), "limit"); l.id = `limit-${c.id}`; card.append(l);
  const dl = el("dl");
  const row = (k, v, cls) => { dl.append(el("dt", k)); dl.append(el("dd", v, cls)); };
  row("Car", `${c.cp_state || "?"} — ${CAR[c.cp_state] || "unknown"}`);
  row("OCPP status", c.ocpp_status);
  row("Offered / drawn", `${fmtA(c.offered_a)} / ${fmtA(c.drawn_a)}`);
  const nc = c.limit && c.limit.next_change;
  if (nc) {
    const t = new Date(nc);
    row("Next change", `${t.toLocaleTimeString()} (in ${duration((t - now) / 1000)})`);
  } else {
    row("Next change", "none scheduled");
  }
  const tx = c.transaction;
  if (tx) {
    const energy = c.energy_wh !== null && tx.meter_start_wh !== null ? (c.energy_wh - tx.meter_start_wh) / 1000 : null;
    row("Transaction", `${tx.transaction_id ?? "(not yet confirmed)"} · tag ${maskTag(tx.id_tag)}`);
    row("Energy / duration", `${energy === null ? "–" : energy.toFixed(2) + " kWh"} · ${duration((now - new Date(tx.start)) / 1000)}`);
  } else {
    row("Transaction", "none");
  }
  if (c.fault) row("Fault", c.fault, "fault");
  card.append(dl);
  return card;
}

// The last `chargectl check-hw` run, saved by it in the state directory: its time, every row,
// and the fix of each failing one.
function checkRows(checks) {
  const refresh = "run `chargectl check-hw` to refresh";
  if (!checks) return [el("li", `No hardware check results yet: ${refresh}`, "muted")];
  if (checks.error) return [el("li", `Hardware check results: ${checks.error}; ${refresh}`, "fault")];
  const failed = checks.rows.filter((r) => !r.ok).length;
  const head = el("li", `Last chargectl check-hw: ${new Date(checks.taken_at).toLocaleString()} — ` +
    (failed ? `${failed} of ${checks.rows.length} failed` : `all ${checks.rows.length} ok`), failed ? "fault" : "");
  head.id = "hw-checks-taken";
  const rows = checks.rows.map((r) => {
    const li = el("li", `${r.ok ? "OK" : "FAIL"} ${r.device}: ${r.detail}`, r.ok ? "" : "fault");
    if (!r.ok && r.fix) li.append(el("div", `Fix: ${r.fix}`, "fix"));
    return li;
  });
  return [head, ...rows, el("li", `To see changes, ${refresh} (with the service stopped: they share the devices)`, "muted")];
}

function render(doc) {
  lastDoc = doc;
  const now = new Date(doc.now || Date.now());
  const box = $("connectors");
  box.replaceChildren(...doc.connectors.map((c) => renderConnector(c, now)));

  const link = doc.csms.state;
  $("link").textContent = `CSMS ${link}`;
  $("link").className = "badge " + (link === "booted" ? "ok" : link === "offline" ? "bad" : "warn");
  const csms = $("csms");
  const when = (iso, none) => (iso ? new Date(iso).toLocaleTimeString() : none);
  const received = doc.csms.last_received || (doc.csms_last_received ? new Date(doc.csms_last_received * 1000).toISOString() : null);
  const pairs = [["URL", doc.csms.url], ["Link", link], ["Since", doc.csms_since ? new Date(doc.csms_since * 1000).toLocaleString() : "–"],
    ["Last message from it", when(received, "none since the service started")],
    ["Last message sent", when(doc.csms.last_sent, "none since the service started")],
    ["Malformed frames refused", String(doc.csms.frames_rejected ?? "–")],
    ["Queued messages", String(doc.csms.queued_messages ?? "–")]];
  csms.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
  const events = (doc.csms.security_events || []).slice().reverse();
  $("security").replaceChildren(...(events.length ? events.map((e) =>
    el("li", `${new Date(e.time).toLocaleString()} ${e.kind}${e.count > 1 ? ` (${e.count} times)` : ""}${e.info ? `: ${e.info}` : ""}`))
    : [el("li", "none since the service started", "muted")]));

  const hw = [];
  for (const c of doc.connectors) {
    if (!c.fault) { hw.push(el("li", `Connector ${c.id} (${c.driver}): no fault`)); continue; }
    // The drivers' errors carry their fix after "; ", as chargectl check-hw prints it.
    const cut = c.fault.indexOf("; ");
    const what = cut < 0 ? c.fault : c.fault.slice(0, cut);
    const li = el("li", `Connector ${c.id} (${c.driver}): ${what}`, "fault");
    if (cut >= 0) li.append(el("div", `Fix: ${c.fault.slice(cut + 2)}`, "fix"));
    hw.push(li);
  }
  hw.push(...checkRows(doc.hardware_checks));
  $("hardware").replaceChildren(...hw);
  $("log").textContent = (doc.log || []).map((r) => `${new Date(r.t * 1000).toLocaleTimeString()} ${r.level} ${r.name}: ${r.message}`).join("\n");
  $("config").textContent = JSON.stringify(doc.config, null, 2);

  const sel = $("ctl-connector");
  if (sel.options.length !== doc.connectors.length) {
    sel.replaceChildren(...doc.connectors.map((c) => { const o = el("option", String(c.id)); o.value = c.id; return o; }));
  }
  $("controls-off").hidden = doc.controls_enabled;
  addPoint(doc);
  drawCharts(doc);
}

function addPoint(doc) {
  for (const c of doc.connectors) {
    const h = history[c.id] || (history[c.id] = { t: [], offered_a: [], drawn_a: [] });
    const t = doc.t;
    if (h.t.length && t <= h.t[h.t.length - 1]) continue;
    h.t.push(t); h.offered_a.push(c.offered_a); h.drawn_a.push(c.drawn_a);
    while (h.t.length && h.t[0] < t - HISTORY_S) { h.t.shift(); h.offered_a.shift(); h.drawn_a.shift(); }
  }
}

function chartWidth() { return Math.max(280, $("chart-history").clientWidth || 600); }

function drawCharts(doc) {
  if (typeof uPlot === "undefined") return;
  const cid = doc.connectors[0].id;
  const h = history[cid];
  const data = [h.t, h.offered_a, h.drawn_a];
  if (!charts.history) {
    charts.history = new uPlot({
      width: chartWidth(), height: 220,
      scales: { y: { range: [0, Math.max(16, doc.connectors[0].rating_a || 32) + 2] } },
      series: [{}, { label: "offered A", stroke: "#1f6feb", width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: "drawn A", stroke: "#1a7f37", width: 2 }],
    }, data, $("chart-history"));
  } else {
    charts.history.setData(data);
  }
  const steps = (doc.schedule || {})[String(cid)] || [];
  if (steps.length) {
    const xs = steps.map((s) => s[0]), ys = steps.map((s) => s[1]);
    xs.push(doc.t + 24 * 3600); ys.push(ys[ys.length - 1]);
    const sdata = [xs, ys];
    if (!charts.schedule) {
      charts.schedule = new uPlot({
        width: chartWidth(), height: 180,
        scales: { y: { range: [0, Math.max(16, doc.connectors[0].rating_a || 32) + 2] } },
        series: [{}, { label: "limit A", stroke: "#b35900", width: 2, paths: uPlot.paths.stepped({ align: 1 }) }],
      }, sdata, $("chart-schedule"));
    } else {
      charts.schedule.setData(sdata);
    }
  }
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...(csrf ? { "X-CSRF-Token": csrf } : {}) },
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await r.json(); } catch (e) { /* empty body */ }
  return { ok: r.ok, status: r.status, data };
}

function say(text, error) { const m = $("message"); m.textContent = text; m.className = error ? "error" : ""; }

async function session() {
  const r = await fetch("/api/session", { credentials: "same-origin" });
  const s = await r.json();
  csrf = s.csrf;
  $("controls-off").hidden = s.controls_enabled;
  $("login").hidden = !s.controls_enabled || s.logged_in;
  $("actions").hidden = !s.logged_in;
}

async function control(action, body) {
  const cid = $("ctl-connector").value || 1;
  const r = await post(`/api/connectors/${cid}/${action}`, body);
  if (r.ok) say(action === "tag" ? (r.data.accepted ? "Tag accepted" : "Tag refused") : "Done");
  else say(r.data.error || `Refused (${r.status})`, true);
  if (r.status === 401) await session();
}

function wire() {
  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await post("/api/login", { password: $("password").value });
    $("password").value = "";
    if (r.ok) { say("Logged in"); } else { say(r.data.error === "wrong password" ? "Wrong password" : (r.data.error || "Login failed"), true); }
    await session();
  });
  $("logout").addEventListener("click", async () => { await post("/api/logout"); say("Logged out"); await session(); });
  $("cap-form").addEventListener("submit", (ev) => { ev.preventDefault(); control("cap", { limit_a: Number($("cap").value) }); });
  $("cap-clear").addEventListener("click", () => control("cap", { limit_a: null }));
  $("pause").addEventListener("click", () => control("pause"));
  $("resume").addEventListener("click", () => control("resume"));
  $("stop").addEventListener("click", () => { if (confirm("Stop the transaction?")) control("stop"); });
  $("tag-form").addEventListener("submit", (ev) => { ev.preventDefault(); control("tag", { id_tag: $("tag").value }); });
  window.addEventListener("resize", () => {
    for (const c of Object.values(charts)) if (c) c.setSize({ width: chartWidth(), height: c.height });
  });
}

async function start() {
  wire();
  await session();
  try {
    const h = await (await fetch("/api/history")).json();
    for (const [cid, v] of Object.entries(h)) history[cid] = v;
  } catch (e) { /* the stream fills it */ }
  const es = new EventSource("/events");
  es.onmessage = (ev) => { $("live").textContent = "live"; $("live").className = "badge ok"; render(JSON.parse(ev.data)); };
  es.onerror = () => { $("live").textContent = "reconnecting…"; $("live").className = "badge bad"; };
}

document.addEventListener("DOMContentLoaded", start);
