"use strict";
(function () {
  const data = JSON.parse(document.getElementById("timeline-data").textContent);
  const GUTTER = 96, AXIS = 26, ROW = 8, MAX_ROWS = 14, MIN_LANE = 46, MAX_DRAWN_MESSAGES = 3000, MAX_DRAWN_OPS = 20000;
  const svg = document.getElementById("chart");
  const OP = { id: 0, client: 1, node: 2, kind: 3, key: 4, rw: 5, start: 6, end: 7, outcome: 8, acks: 9, error: 10 };
  const clientPath = new Set(data.messages.clientPathKinds);
  const kindNames = data.messages.kinds;
  const endMicros = Math.max(data.endMicros, 1);

  // Violations name operations and nodes: highlight them.
  const violatingOps = new Set(), namedNodes = new Set();
  for (const v of data.violations) { v.ops.forEach(o => violatingOps.add(o)); v.nodes.forEach(n => namedNodes.add(n)); }

  // Messages: [sent, arrived, from, to, kind, fate, keys]; keys split once for the key search.
  const messages = data.messages.items.map(m => ({
    sent: m[0], arrived: m[1], from: m[2], to: m[3], kind: kindNames[m[4]], fate: m[5],
    keys: m[6] === null ? null : m[6].split("\u0000"),
  }));
  for (const m of messages) {
    m.lost = m.fate !== "delivered" && m.fate !== "duplicate";
    m.priority = clientPath.has(m.kind) || m.lost;
  }

  // Lanes: an op sits in the first row of its coordinator's lane that is free at its start.
  const lanes = [];
  for (let n = 0; n < data.nodes; n++) lanes.push({ node: n, rowEnds: [], top: 0, height: 0 });
  const ops = data.ops.slice().sort((a, b) => a[OP.start] - b[OP.start]);
  const rowOf = new Map();
  for (const op of ops) {
    const lane = lanes[op[OP.node]], end = op[OP.end] < 0 ? endMicros : op[OP.end];
    let row = lane.rowEnds.findIndex(e => e < op[OP.start]);
    if (row < 0) row = lane.rowEnds.length < MAX_ROWS ? lane.rowEnds.length : MAX_ROWS - 1;
    lane.rowEnds[row] = Math.max(lane.rowEnds[row] || 0, end);
    rowOf.set(op[OP.id], row);
  }
  let y = AXIS;
  for (const lane of lanes) {
    lane.top = y;
    lane.height = Math.max(MIN_LANE, 22 + lane.rowEnds.length * ROW + 8);
    y += lane.height;
  }
  const chartHeight = y + 4;

  const view = { t0: 0, t1: endMicros };
  let keyFilter = "";

  function width() { return Math.max(600, document.documentElement.clientWidth); }
  function x(t, w) { return GUTTER + (t - view.t0) / (view.t1 - view.t0) * (w - GUTTER - 10); }
  function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
  function ms(t) { return (t / 1000).toFixed(3) + " ms"; }
  function laneMid(n) { return lanes[n].top + lanes[n].height / 2; }

  function opText(op) {
    const who = op[OP.client] < 0 ? "checker" : "client" + op[OP.client];
    const rw = op[OP.kind] === "get" ? "R" : "W";
    const done = op[OP.end] < 0 ? "never completed" : op[OP.outcome] + " after " + ms(op[OP.end] - op[OP.start]) + " (" + op[OP.acks] + " answered)";
    return "op#" + op[OP.id] + " " + who + "@node" + op[OP.node] + " " + op[OP.kind] + " " + op[OP.key] + " " + rw + "=" + op[OP.rw] +
      "\ninvoked " + ms(op[OP.start]) + ", " + done + (op[OP.error] ? "\n" + op[OP.error] : "");
  }

  function axis(parts, w) {
    const span = view.t1 - view.t0, target = span / 8;
    const pow = Math.pow(10, Math.floor(Math.log10(Math.max(target, 1))));
    const step = [1, 2, 5, 10].map(f => f * pow).find(s => s >= target) || pow * 10;
    parts.push('<g class="axis">');
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const px = x(t, w);
      parts.push('<line x1="' + px + '" x2="' + px + '" y1="' + (AXIS - 4) + '" y2="' + chartHeight + '"/>');
      parts.push('<text x="' + (px + 2) + '" y="' + (AXIS - 8) + '">' + (t / 1000).toFixed(step < 1000 ? 3 : 0) + ' ms</text>');
    }
    parts.push("</g>");
  }

  function drawLanes(parts, w) {
    for (const lane of lanes) {
      const named = namedNodes.has(lane.node) ? " named" : "";
      parts.push('<g class="lane' + named + '" data-node="' + lane.node + '">');
      parts.push('<rect class="lane-bg' + (lane.node % 2 ? " alt" : "") + named + '" x="0" y="' + lane.top + '" width="' + w + '" height="' + lane.height + '"/>');
      parts.push('<text class="lane-label' + named + '" x="8" y="' + (lane.top + 16) + '">node ' + lane.node + (named ? " \u26a0" : "") + "</text></g>");
    }
  }

  function drawFaults(parts, w) {
    const labels = new Map(); // labels placed per lane, stacked upwards so overlapping periods stay readable
    for (const f of data.faults) {
      const end = f.end < 0 ? endMicros : f.end;
      if (end < view.t0 || f.start > view.t1) continue;
      const x0 = Math.max(GUTTER, x(f.start, w)), x1 = Math.min(w, x(end, w));
      for (const n of f.nodes) {
        const lane = lanes[n];
        if (f.kind === "clock") {
          parts.push('<line class="clock" data-kind="clock" x1="' + x0 + '" x2="' + x0 + '" y1="' + lane.top + '" y2="' + (lane.top + lane.height) + '"><title>' + esc(f.text) + "</title></line>");
          continue;
        }
        parts.push('<rect class="fault ' + f.kind + '" data-kind="' + f.kind + '" x="' + x0 + '" y="' + lane.top + '" width="' + Math.max(1, x1 - x0) +
          '" height="' + lane.height + '"><title>' + esc(f.text) + "</title></rect>");
        if (x1 - x0 < 40) continue;
        const stacked = labels.get(n) || 0;
        labels.set(n, stacked + 1);
        if (stacked < 3) parts.push('<text class="fault-label" x="' + (x0 + 3) + '" y="' + (lane.top + lane.height - 4 - 11 * stacked) + '">' + f.kind + "</text>");
      }
    }
    const heal = x(data.healedMicros, w);
    if (data.healedMicros >= view.t0 && data.healedMicros <= view.t1) {
      parts.push('<line class="heal" x1="' + heal + '" x2="' + heal + '" y1="' + AXIS + '" y2="' + chartHeight + '"><title>every fault healed at ' + ms(data.healedMicros) + "</title></line>");
    }
  }

  function visibleMessages() {
    const inView = messages.filter(m => m.arrived >= view.t0 && m.sent <= view.t1 && (!keyFilter || (m.keys && m.keys.includes(keyFilter))));
    if (inView.length <= MAX_DRAWN_MESSAGES) return { drawn: inView, inView: inView.length, note: "" };
    const priority = inView.filter(m => m.priority), rest = inView.filter(m => !m.priority);
    const pStride = Math.ceil(priority.length / MAX_DRAWN_MESSAGES);
    const drawn = priority.filter((_, i) => i % pStride === 0);
    const budget = MAX_DRAWN_MESSAGES - drawn.length;
    const rStride = budget > 0 ? Math.ceil(rest.length / budget) : Infinity;
    if (budget > 0) rest.forEach((m, i) => { if (i % rStride === 0) drawn.push(m); });
    const note = "; too many in view: " + (pStride === 1 ? "all" : "1 in " + pStride) + " client-path/lost, " +
      (rStride === Infinity ? "no" : "1 in " + rStride) + " anti-entropy drawn (zoom in for all)";
    return { drawn, inView: inView.length, note };
  }

  function drawMessages(parts, w) {
    const v = visibleMessages();
    // A crowd of arrows turns into a wall: fainter the more are drawn.
    svg.style.setProperty("--msg-opacity", v.drawn.length > 1000 ? 0.18 : v.drawn.length > 200 ? 0.35 : 0.6);
    for (const m of v.drawn) {
      const cls = m.lost ? "lost" : clientPath.has(m.kind) ? "client" : "repair";
      const y1 = laneMid(m.from), y2 = laneMid(m.to);
      const arrow = v.drawn.length <= 600 && cls === "client" ? ' marker-end="url(#arrow)"' : "";
      parts.push('<line class="msg ' + cls + '"' + arrow + ' x1="' + x(m.sent, w) + '" y1="' + y1 + '" x2="' + x(m.arrived, w) + '" y2="' + y2 + '"><title>' +
        esc(m.kind + " node" + m.from + " \u2192 node" + m.to + " " + m.fate + (m.keys ? " [" + m.keys.join(", ") + "]" : "") +
          " sent " + ms(m.sent) + (m.lost ? "" : ", arrived " + ms(m.arrived))) + "</title></line>");
    }
    return v;
  }

  // Ops in view; past MAX_DRAWN_OPS one in k is drawn (those a violation names always), so a
  // 100,000-op run stays responsive, and the status line says so.
  function opsInView() {
    const inView = ops.filter(op => (!keyFilter || op[OP.key] === keyFilter) &&
      (op[OP.end] < 0 ? endMicros : op[OP.end]) >= view.t0 && op[OP.start] <= view.t1);
    if (inView.length <= MAX_DRAWN_OPS) return { drawn: inView, stride: 1 };
    const stride = Math.ceil(inView.length / MAX_DRAWN_OPS);
    return { drawn: inView.filter((op, i) => i % stride === 0 || violatingOps.has(op[OP.id])), stride };
  }

  function drawOps(parts, w) {
    const v = opsInView();
    for (const op of v.drawn) {
      const end = op[OP.end] < 0 ? endMicros : op[OP.end];
      const lane = lanes[op[OP.node]], row = rowOf.get(op[OP.id]);
      const x0 = x(op[OP.start], w), x1 = Math.max(x0 + 2, x(end, w));
      const violating = violatingOps.has(op[OP.id]);
      const cls = "op " + op[OP.outcome] + (op[OP.client] < 0 ? " checker" : " workload") + (violating ? " violating" : "");
      const top = lane.top + 22 + row * ROW;
      parts.push('<rect class="' + cls + '" data-op="' + op[OP.id] + '" x="' + x0 + '" y="' + top + '" width="' + (x1 - x0) +
        '" height="' + (ROW - 2) + '"><title>' + esc(opText(op)) + "</title></rect>");
      if (violating) parts.push('<text class="op-marker" x="' + (x0 - 3) + '" y="' + (top - 1) + '">\u25bc</text>');
    }
    return v;
  }

  function render() {
    const w = width(), parts = [];
    svg.setAttribute("width", w);
    svg.setAttribute("height", chartHeight);
    drawLanes(parts, w);
    // Everything on the time axis is clipped to the plot, so nothing runs over the lane labels.
    parts.push('<defs><clipPath id="plot"><rect x="' + GUTTER + '" y="0" width="' + (w - GUTTER) + '" height="' + chartHeight + '"/></clipPath>' +
      '<marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" orient="auto-start-reverse">' +
      '<path d="M0,0 L6,3 L0,6 z" fill="#2a6fdb"/></marker></defs><g clip-path="url(#plot)">');
    drawFaults(parts, w);
    axis(parts, w);
    const v = drawMessages(parts, w);
    const o = drawOps(parts, w), opsDrawn = o.drawn.length;
    parts.push("</g>");
    svg.innerHTML = parts.join("");
    document.getElementById("filter").textContent = "Messages: " + data.messages.filter + ". In view: " + v.inView +
      ", drawn " + v.drawn.length + v.note + ".";
    document.getElementById("status").textContent = "view " + ms(view.t0) + " \u2013 " + ms(view.t1) + ", " + opsDrawn + " operations" + (o.stride > 1 ? " drawn (1 in " + o.stride + "; zoom in for all)" : "") +
      (keyFilter ? " touching key \u201c" + keyFilter + "\u201d" : "");
    document.body.dataset.opsDrawn = opsDrawn;
    document.body.dataset.messagesDrawn = v.drawn.length;
  }

  let pending = false;
  function update() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } }
  function timeAt(px) { return view.t0 + (px - GUTTER) / (width() - GUTTER - 10) * (view.t1 - view.t0); }
  function zoom(factor, around) {
    const span = Math.min(endMicros, Math.max(10, (view.t1 - view.t0) * factor));
    const frac = (around - view.t0) / (view.t1 - view.t0);
    view.t0 = Math.max(0, around - frac * span);
    view.t1 = Math.min(endMicros, view.t0 + span);
    view.t0 = Math.max(0, view.t1 - span);
    update();
  }
  function showRange(t0, t1) {
    const pad = Math.max(2000, (t1 - t0) * 0.6);
    view.t0 = Math.max(0, t0 - pad); view.t1 = Math.min(endMicros, t1 + pad);
    update();
  }

  svg.addEventListener("wheel", e => { e.preventDefault(); zoom(e.deltaY < 0 ? 0.8 : 1.25, timeAt(e.offsetX)); }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", e => { drag = { x: e.clientX, t0: view.t0, t1: view.t1 }; svg.classList.add("dragging"); });
  window.addEventListener("mouseup", () => { drag = null; svg.classList.remove("dragging"); });
  window.addEventListener("mousemove", e => {
    if (!drag) return;
    const dt = (e.clientX - drag.x) / (width() - GUTTER - 10) * (drag.t1 - drag.t0);
    const span = drag.t1 - drag.t0;
    view.t0 = Math.min(Math.max(0, drag.t0 - dt), endMicros - span); view.t1 = view.t0 + span;
    update();
  });
  svg.addEventListener("dblclick", () => { view.t0 = 0; view.t1 = endMicros; update(); });
  document.getElementById("zoom-in").onclick = () => zoom(0.5, (view.t0 + view.t1) / 2);
  document.getElementById("zoom-out").onclick = () => zoom(2, (view.t0 + view.t1) / 2);
  document.getElementById("fit").onclick = () => { view.t0 = 0; view.t1 = endMicros; update(); };
  window.addEventListener("resize", update);

  const keyInput = document.getElementById("key");
  function setKey(k) { keyFilter = k.trim(); history.replaceState(null, "", keyFilter ? "#key=" + encodeURIComponent(keyFilter) : "#"); update(); }
  keyInput.addEventListener("input", () => setKey(keyInput.value));

  document.getElementById("title").innerHTML = "Seed " + esc(data.seed) + ": " + (data.ok ? '<span class="good">ok</span>' : '<span class="bad">FAILED</span>') +
    " \u2014 " + data.nodes + " nodes, " + data.ops.length + " operations, " + data.faults.length + " fault periods, trace " + esc(data.traceHash);
  document.getElementById("command").textContent = "meteora-sim " + data.command;
  const list = document.getElementById("violations");
  for (const v of data.violations) {
    const li = document.createElement("li");
    li.className = "violation";
    li.textContent = v.text;
    li.dataset.ops = v.ops.join(",");
    // A violation about a key but no operation (an early ack) shows everything that touched that key.
    li.onclick = () => { if (v.ops.length) showOps(v.ops); else if (v.key) { keyInput.value = v.key; setKey(v.key); } };
    list.appendChild(li);
  }

  function showOps(ids) {
    const named = data.ops.filter(o => ids.includes(o[OP.id]));
    if (named.length) showRange(Math.min(...named.map(o => o[OP.start])), Math.max(...named.map(o => o[OP.end] < 0 ? endMicros : o[OP.end])));
  }

  // #key=K opens the page filtered to one key (a link to share, and how tests drive the search).
  const m = /^#key=(.*)$/.exec(location.hash);
  if (m) { keyInput.value = decodeURIComponent(m[1]); keyFilter = keyInput.value.trim(); }
  // A failing run opens on the operations its first violation names; "fit" shows the whole run.
  const first = data.violations.find(v => v.ops.length > 0);
  if (first) showOps(first.ops);
  render();
  document.body.dataset.rendered = "1";
})();
