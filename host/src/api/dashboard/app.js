// The dashboard's script. It follows GET /dashboard/events: every event is a whole snapshot,
// which replaces what the page shows. Data goes into the page as text (textContent), never as
// markup. Admin actions call Kiln's own routes with the token typed in above (sessionStorage:
// this tab only); the server checks it as it checks any client's.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "kiln.adminToken";
let last = null;
let deadShownFor = null;

// Images by URL, reused across renders: moving an <img> does not fetch it again.
const images = new Map();
function image(src, cls) {
  let img = images.get(src);
  if (!img) {
    img = document.createElement("img");
    img.className = cls;
    img.alt = "";
    img.decoding = "async";
    img.addEventListener("error", () => { img.dataset.failed = "1"; });
    img.src = src;
    images.set(src, img);
  }
  return img;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else if (key === "onclick") node.addEventListener("click", value);
    else node[key] = value;
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function fill(container, nodes) { container.replaceChildren(...nodes); }

function seconds(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}
function size(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MB`;
}
function ago(ms, now) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}
function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `up ${d}d ${h}h` : h ? `up ${h}h ${m}m` : `up ${m}m ${s % 60}s`;
}
function label(job) {
  return [job.type, job.piece, job.format].filter(Boolean).join(" · ") || "job";
}
function artifactUrl(id, name) {
  return `/jobs/${encodeURIComponent(id)}/artifacts/${encodeURIComponent(name)}`;
}

// ---- admin actions ----

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function notice(text, kind) {
  const box = $("notice");
  box.textContent = text;
  box.dataset.kind = kind || "info";
  box.hidden = !text;
}

// Calls one of Kiln's routes with the admin token, if one was typed in. Answers
// {ok, status, body}; a refusal is shown, not thrown.
async function call(method, path, what) {
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  let response;
  try {
    response = await fetch(path, { method, headers });
  } catch (err) {
    notice(`${what}: the request failed (${err.message})`, "error");
    return { ok: false, status: 0, body: null };
  }
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.statusText;
    const hint = response.status === 401 ? " Type the admin token above." : "";
    notice(`${what}: ${response.status} ${message}.${hint}`, "error");
  } else {
    notice(`${what}: done (${response.status})`, "info");
  }
  return { ok: response.ok, status: response.status, body };
}

function cancelButton(id) {
  return el("button", { class: "cancel", "data-job": id, text: "cancel",
    onclick: () => call("DELETE", `/jobs/${encodeURIComponent(id)}`, `cancel ${id}`) });
}

async function loadDeadLetters(count) {
  const list = $("dead");
  if (!token()) {
    deadShownFor = null;
    fill(list, count ? [el("li", { class: "empty", text: "type the admin token above to list them and requeue" })] : []);
    return;
  }
  deadShownFor = `${token()}:${count}`;
  const answer = await call("GET", "/dead-letters", "dead letters");
  if (!answer.ok) return;
  if (answer.status === 200) notice("", "info");
  fill(list, (answer.body.jobs || []).map((job) => el("li", { "data-job": job.id },
    el("div", { class: "body" },
      el("div", { class: "title", text: `${job.id} · ${job.type}` }),
      el("div", { class: "meta", text: `${job.attempts} attempts · ${ago(job.finished_at, Date.now())}` }),
      job.error ? el("div", { class: "error", text: job.error.message }) : null),
    el("button", { class: "requeue", text: "requeue",
      onclick: async () => {
        const done = await call("POST", `/dead-letters/${encodeURIComponent(job.id)}/requeue`, `requeue ${job.id}`);
        if (done.ok) loadDeadLetters(null);
      } }))));
}

// ---- rendering ----

function renderActive(s) {
  fill($("active"), s.active.map((job) => {
    const frame = el("div", { class: "frame" });
    if (job.previewSeq) {
      frame.append(image(`/dashboard/preview/${encodeURIComponent(job.id)}?seq=${job.previewSeq}`, "preview"));
    } else {
      frame.textContent = job.type || "";
    }
    const bar = el("span");
    bar.style.width = `${job.percent}%`;
    return el("div", { class: "job", "data-job": job.id, "data-state": "running" },
      frame,
      el("div", { class: "body" },
        el("div", { class: "title", text: label(job) }),
        el("div", { class: "meta", text: job.id }),
        el("div", { class: "stage", text: `${job.stage} · ${job.percent}%` }),
        el("div", { class: "bar" }, bar),
        el("div", { class: "meta", text: `attempt ${job.attempt} · running ${seconds(s.now - job.startedAt)}` }),
        cancelButton(job.id)));
  }));
  $("idle").hidden = s.active.length > 0;
}

function renderQueue(s) {
  const d = s.depths;
  $("depths").textContent = d ? `interactive ${d.interactive} · bulk ${d.bulk} · retrying ${d.retrying}` : (s.queueError || "");
  const parts = [];
  for (const lane of ["interactive", "bulk"]) {
    const jobs = s.queue.filter((q) => q.lane === lane);
    if (!jobs.length) continue;
    parts.push(el("div", { class: "lane", text: lane }));
    parts.push(el("table", {}, ...jobs.map((q) => el("tr", { "data-job": q.id },
      el("td", { text: `#${q.position}` }),
      el("td", { class: "title", text: label(q) }),
      el("td", { class: "meta", text: q.id }),
      el("td", { text: `~${seconds(q.estimatedWait)}` }),
      el("td", {}, cancelButton(q.id))))));
  }
  if (!parts.length) parts.push(el("p", { class: "empty", text: "nothing is waiting" }));
  fill($("queue"), parts);
}

function renderRecent(s) {
  fill($("recent"), s.recent.map((job) => {
    const box = el("div", { class: "thumb-box" });
    if (job.status === "succeeded" && job.thumbnail) {
      box.append(image(artifactUrl(job.id, job.thumbnail), "thumb"));
    } else {
      box.textContent = job.status === "succeeded" ? (job.type || "") : "—";
    }
    const meta = [seconds(job.runMs), size(job.bytes), ago(job.finishedAt, s.now)].filter(Boolean).join(" · ");
    return el("li", { "data-job": job.id, "data-status": job.status },
      box,
      el("div", { class: "body" },
        el("div", { class: "title", text: label(job) }),
        el("div", { class: "meta" },
          el("span", { class: `status-${job.status}`, text: job.status }),
          document.createTextNode(` · ${job.id} · ${meta}`)),
        job.error ? el("div", { class: "error", text: job.error }) : null),
      job.thumbnail ? el("a", { href: artifactUrl(job.id, job.thumbnail), target: "_blank", rel: "noopener", text: "open" }) : null);
  }));
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function renderThroughput(s) {
  const t = s.throughput;
  const width = 600, height = 90, slot = width / t.minutes.length;
  const most = Math.max(1, ...t.minutes.map((m) => m.succeeded + m.failed + m.cancelled));
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none" });
  chart.append(svg("line", { class: "axis", x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }));
  t.minutes.forEach((m, i) => {
    const ok = (m.succeeded / most) * (height - 4), bad = ((m.failed + m.cancelled) / most) * (height - 4);
    const x = i * slot + 1, w = Math.max(1, slot - 2);
    if (ok) chart.append(svg("rect", { class: "ok", x, y: height - ok, width: w, height: ok }));
    if (bad) chart.append(svg("rect", { class: "bad", x, y: height - ok - bad, width: w, height: bad }));
  });
  const total = t.succeeded + t.failed + t.cancelled;
  fill($("throughput"), [chart, el("div", { class: "numbers" },
    el("span", { text: `${total} jobs (${(total / 60).toFixed(1)}/min)` }),
    el("span", { class: "status-succeeded", text: `${t.succeeded} ok` }),
    el("span", { class: "status-failed", text: `${t.failed} failed` }),
    el("span", { class: "status-cancelled", text: `${t.cancelled} cancelled` }),
    el("span", { text: `latency p50 ${seconds(t.p50TotalMs)} · p95 ${seconds(t.p95TotalMs)}` }),
    el("span", { text: `run p50 ${seconds(t.p50RunMs)} · p95 ${seconds(t.p95RunMs)}` }),
    t.truncated ? el("span", { class: "status-cancelled", text: `only the last ${t.kept} jobs are counted` }) : null)]);
}

function renderFrozen(s) {
  const rows = (s.frozen || []).map((f) => el("li", { "data-piece": f.piece },
    el("div", { class: "thumb-box" }, f.previewUrl ? image(artifactUrl(f.job, "poster.png"), "thumb") : null),
    el("div", { class: "body" },
      el("div", { class: "title", text: f.piece }),
      el("div", { class: "meta", text: `${f.reason} · ${f.attempts}× · last ${f.lastAttempt}` })),
    el("button", { class: "unfreeze", text: "unfreeze",
      onclick: () => call("DELETE", `/api/frozen/${encodeURIComponent(f.piece)}`, `unfreeze ${f.piece}`) })));
  if (s.frozenError) rows.push(el("li", { class: "error", text: s.frozenError }));
  if (!rows.length) rows.push(el("li", { class: "empty", text: "none" }));
  fill($("frozen"), rows);
}

function renderBrowsers(s) {
  const b = s.browsers || {};
  const parts = [];
  for (const [pool, list] of [["cpu", b.cpu], ["gpu", b.gpu]]) {
    if (!list) continue;
    parts.push(el("div", { class: "lane", text: `${pool} pool` }));
    parts.push(el("table", {}, ...list.map((x) => {
      const mem = el("span");
      mem.style.width = `${Math.min(100, b.recycleAboveMib ? (100 * x.memoryMib) / b.recycleAboveMib : 0)}%`;
      return el("tr", { "data-browser": x.index },
        el("td", { text: `#${x.index}` }),
        el("td", { class: "meta", text: `pid ${x.pid ?? "–"}` }),
        el("td", { class: x.alive ? "status-succeeded" : "status-failed", text: x.alive ? (x.draining ? "recycling" : "up") : "down" }),
        el("td", { text: `${x.memoryMib} MiB` }),
        el("td", {}, el("span", { class: "mem", title: `recycled above ${b.recycleAboveMib} MiB` }, mem)),
        el("td", { text: `${x.leased}/${x.pages} busy` }),
        el("td", { class: "meta", text: `${x.jobsServed} jobs · ${uptime(x.ageS).slice(3)}` }));
    })));
  }
  if (!parts.length) parts.push(el("p", { class: "empty", text: "this process runs no browsers (--api-only)" }));
  fill($("browsers"), parts);
}

function renderPlugins(s) {
  const rows = (s.plugins || []).map((p) => el("li", { "data-plugin": p.name },
    el("div", { class: "body" },
      el("div", { class: "title", text: `${p.name}@${p.version}` }),
      el("div", { class: "meta", text: [p.summary, (p.granted || []).join(", ")].filter(Boolean).join(" · ") }))));
  if (s.refusedPlugins) rows.push(el("li", { class: "error", text: `${s.refusedPlugins} plugin file(s) refused: GET /plugins says why` }));
  fill($("plugins"), rows);
}

function render(s) {
  last = s;
  $("counts").textContent = `${s.concurrency.active}/${s.concurrency.max} active · ${s.concurrency.queueDepth ?? "?"} queued`;
  $("uptime").textContent = `${uptime(s.uptimeS)} · v${s.version}`;
  renderActive(s);
  renderQueue(s);
  renderRecent(s);
  renderThroughput(s);
  renderFrozen(s);
  renderBrowsers(s);
  renderPlugins(s);
  $("dead-count").textContent = s.deadLetters === null ? "(the queue did not answer)" : `${s.deadLetters}`;
  if (deadShownFor !== `${token()}:${s.deadLetters}`) loadDeadLetters(s.deadLetters);
  // Forget images no longer shown, so the cache stays as small as the page.
  for (const [src, img] of images) if (!img.isConnected) images.delete(src);
}

// ---- wiring ----

$("token").value = token();
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  notice(token() ? "admin token set for this tab" : "", "info");
  deadShownFor = null;
  if (last) render(last);
});
$("token-forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $("token").value = "";
  notice("admin token forgotten", "info");
  deadShownFor = null;
  if (last) render(last);
});

const events = new EventSource("/dashboard/events");
events.addEventListener("open", () => { $("conn").dataset.state = "live"; $("conn").textContent = "live"; });
events.addEventListener("error", () => { $("conn").dataset.state = "lost"; $("conn").textContent = "reconnecting…"; });
events.addEventListener("snapshot", (event) => {
  $("conn").dataset.state = "live";
  $("conn").textContent = "live";
  render(JSON.parse(event.data));
});
