// shapesmith's page: everything is computed by the server's JSON endpoints; the state lives in the URL.
"use strict";

const KEYS = ["framework", "layer", "input", "kind", "position", "target", "search", "focus"];
const EXAMPLE = {layer: "nn.Conv2d(3, 8, 3, stride=2, padding=1)", input: "(1, 3, 9, 9)"};
const state = {framework: "", layer: "", input: "", kind: "auto", position: "", target: "", search: "", focus: ""};
const $ = (id) => document.getElementById(id);
let generation = 0;  // answers to an older state are dropped
let timer = null;
let controlsKey = "";
let setChain = Promise.resolve();
let lastTrace = null;

const MAX_BODY = 64 * 1024;  // the server's limit per request

async function post(path, body) {
  const text = JSON.stringify(body);
  const size = new Blob([text]).size;
  if (size > MAX_BODY) {
    throw new Error(`the text is ${Math.ceil(size / 1024)} KiB; the page takes at most ${MAX_BODY / 1024} KiB ` +
                    "(use the command line for longer stacks)");
  }
  const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: text});
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) throw new Error((data && data.error) || `the server answered HTTP ${response.status}`);
  return data;
}

// ------------------------------------------------------------------ state <-> URL and form
function readURL() {
  const query = new URLSearchParams(location.search);
  const shared = KEYS.some((k) => query.has(k));
  for (const key of KEYS) state[key] = query.get(key) || (shared ? "" : EXAMPLE[key] || "");
  if (!state.kind) state.kind = "auto";
  $("layer").value = state.layer;
  fitLayerBox();
  $("input").value = state.input;
  $("framework").value = state.framework;
  $("kind").value = state.kind;
  $("position").value = state.position;
  $("target").value = state.target;
}

function writeURL() {
  const query = new URLSearchParams();
  for (const key of KEYS) if (state[key] && !(key === "kind" && state[key] === "auto")) query.set(key, state[key]);
  const text = query.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

function body(extra) {
  return {code: state.layer, input: state.input, framework: state.framework, ...extra};
}

// ------------------------------------------------------------------ formatting
function dim(d) { return d === null ? "None" : String(d); }
function shape(s) {
  if (!Array.isArray(s)) return String(s);
  if (s.length && Array.isArray(s[0])) return s.map(shape).join(", ");
  return s.length === 1 ? `(${dim(s[0])},)` : `(${s.map(dim).join(", ")})`;
}
function count(n) { return typeof n === "number" ? n.toLocaleString("en-US") : String(n); }
function item(parent, text, tag = "li") {
  const el = document.createElement(tag);
  el.textContent = text;
  parent.appendChild(el);
  return el;
}

// ------------------------------------------------------------------ one round: trace, then the picture
function schedule(ms = 250) {
  clearTimeout(timer);
  timer = setTimeout(update, ms);
}

async function update() {
  const mine = ++generation;
  writeURL();
  if (!state.layer.trim()) {
    showError("");
    clearResult();
    return;
  }
  let trace;
  try {
    trace = await post("/api/trace", body());
  } catch (err) {
    if (mine === generation) { clearResult(); showError(err.message); }
    return;
  }
  if (mine !== generation) return;
  showError("");
  lastTrace = trace;
  if (state.focus && !trace.layers[Number(state.focus)]) state.focus = "";
  showTrace(trace);
  await drawPicture(mine);
}

function pictureRequest(position) {
  const focused = lastTrace && lastTrace.layers.length > 1 && state.focus ? lastTrace.layers[Number(state.focus)] : null;
  if (!focused) return body({kind: state.kind, position});
  return {code: focused.text, input: shape(focused.input_shape), framework: lastTrace.framework, kind: state.kind,
          position};
}

async function drawPicture(mine = generation) {
  const position = state.position.trim() || null;
  try {
    const picture = await post("/api/draw", pictureRequest(position));
    if (mine !== generation) return;
    showPicture(picture);
  } catch (err) {
    if (mine !== generation) return;
    if (position && /outside|indices/.test(err.message)) {  // the old position does not fit the new layer
      state.position = "";
      $("position").value = "";
      writeURL();
      return drawPicture(mine);
    }
    $("picture").replaceChildren();
    $("picture-error").textContent = err.message;
    $("picture-error").hidden = false;
  }
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function clearResult() {
  $("output-shape").textContent = "";
  $("params").textContent = "";
  $("derivation").replaceChildren();
  $("notes").replaceChildren();
  $("picture").replaceChildren();
  $("picture-error").hidden = true;
  for (const id of ["controls-panel", "sizes-panel", "stack-panel"]) $(id).hidden = true;
}

function showTrace(t) {
  $("output-shape").textContent = shape(t.output_shape);
  $("params").textContent = `${count(t.params)} params`;
  const derivation = $("derivation");
  derivation.replaceChildren();
  const notes = $("notes");
  notes.replaceChildren();
  if (t.layers.length === 1) {
    for (const step of t.layers[0].derivation) {
      item(derivation, `${step.axis}: ${step.rule}: o = ${step.formula} = ${step.filled} = ${dim(step.result)}`);
      for (const note of step.notes) item(derivation, `   ${note}`).className = "muted";
    }
    for (const note of t.layers[0].notes) item(notes, `note: ${note}`);
  }
  if (t.constraints.length) item(notes, `valid when: ${t.constraints.join(", ")}`);
  for (const warning of t.warnings) item(notes, `warning: ${warning}`);
  showControls(t.controls);
  showSizes(t.sizes);
  showStack(t);
}

// ------------------------------------------------------------------ sliders
function controlId(c) { return c.index === null ? `ctl-${c.param}` : `ctl-${c.param}-${c.index}`; }

function showControls(controls) {
  $("controls-panel").hidden = !controls.length;
  const key = JSON.stringify(controls.map((c) => [c.param, c.index, c.kind, c.min, c.max, c.options]));
  if (key === controlsKey) {  // same sliders: move their values, not the one in the user's hand
    for (const c of controls) {
      const el = $(controlId(c));
      if (el && el !== document.activeElement) el.value = c.value;
      const shown = $(`${controlId(c)}-value`);
      if (shown && el !== document.activeElement) shown.textContent = c.value;
    }
  } else {
    controlsKey = key;
    const box = $("controls");
    box.replaceChildren();
    for (const c of controls) box.appendChild(controlRow(c));
  }
  showSearch(controls);
}

function controlRow(c) {
  const row = document.createElement("div");
  row.className = "control";
  const name = document.createElement("code");
  name.textContent = c.index === null ? c.param : `${c.param}[${c.index}]`;
  if (!c.given) name.title = "not written in the layer: its default";
  row.appendChild(name);
  let input;
  if (c.kind === "choice") {
    input = document.createElement("select");
    for (const option of c.options) item(input, option, "option").value = option;
    input.addEventListener("change", () => setArgument(c, input.value));
  } else {
    input = document.createElement("input");
    input.type = "range";
    input.min = c.min;
    input.max = c.max;
    input.step = 1;
    input.addEventListener("input", () => {
      $(`${controlId(c)}-value`).textContent = input.value;
      clearTimeout(input.pending);
      input.pending = setTimeout(() => setArgument(c, Number(input.value)), 120);
    });
  }
  input.id = controlId(c);
  input.value = c.value;
  input.dataset.param = c.param;
  row.appendChild(input);
  const value = document.createElement("span");
  value.className = "value";
  value.id = `${controlId(c)}-value`;
  value.textContent = c.kind === "choice" ? "" : c.value;
  row.appendChild(value);
  return row;
}

function setArgument(c, value) {
  setChain = setChain.then(async () => {
    try {
      const answer = await post("/api/set", {code: state.layer, framework: state.framework, param: c.param,
                                             index: c.index, value});
      state.layer = answer.code;
      $("layer").value = answer.code;
      await update();
    } catch (err) {
      showError(err.message);
    }
  });
}

// ------------------------------------------------------------------ transposed sizes, stack
function showSizes(sizes) {
  $("sizes-panel").hidden = !sizes.length;
  const list = $("sizes");
  list.replaceChildren();
  for (const axis of sizes) {
    const picks = axis.sizes.map((s) => `${s.size} (${s.how || "cannot be picked"})`).join(", ");
    const more = axis.total > axis.sizes.length ? `, … (${axis.total} in all)` : "";
    item(list, `${axis.axis}: ${picks}${more} → ${axis.input}`);
  }
}

function showStack(t) {
  $("stack-panel").hidden = t.layers.length < 2;
  const rows = $("stack").querySelector("tbody");
  rows.replaceChildren();
  if (t.layers.length < 2) return;
  for (const layer of t.layers) {
    const tr = document.createElement("tr");
    tr.className = String(layer.index) === state.focus ? "focus" : "";
    tr.title = "click: this layer's picture (again: the whole stack)";
    tr.addEventListener("click", () => {
      state.focus = String(layer.index) === state.focus ? "" : String(layer.index);
      state.position = "";
      $("position").value = "";
      writeURL();
      showStack(lastTrace);
      drawPicture();
    });
    item(tr, String(layer.index), "td");
    const code = document.createElement("code");
    code.textContent = layer.text;
    const td = item(tr, `${layer.name} (${layer.type}) `, "td");
    td.appendChild(code);
    item(tr, shape(layer.output_shape), "td");
    item(tr, count(layer.params), "td");
    rows.appendChild(tr);
  }
}

// ------------------------------------------------------------------ the picture and its hover
function showPicture(picture) {
  $("picture-error").hidden = true;
  const holder = $("picture");
  holder.innerHTML = picture.svg;  // the server's SVG: every text in it is escaped
  $("download").href = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(picture.svg)}`;
}

function geometryOf(svg) {
  try { return JSON.parse(svg.dataset.geometry || "null"); } catch (e) { return null; }
}

function product(lists) {
  return lists.reduce((acc, list) => acc.flatMap((a) => list.map((b) => [...a, b])), [[]]);
}

function range(n) { return Array.from({length: Math.min(n, 256)}, (_, t) => t); }

function related(svg, cell) {
  const g = geometryOf(svg);
  const classes = cell.classList;
  if (classes.contains("elided")) return [];
  if (cell.dataset.source) return [...svg.querySelectorAll(`.cell[data-source="${cell.dataset.source}"]`)];
  if (!g || !cell.dataset.index) return [];
  const index = cell.dataset.index.split(",").map(Number);
  let lists = null;
  let target = null;
  if (g.kind === "window" && classes.contains("output")) {
    lists = g.axes.map((a, k) => range(a.kernel).map((t) => index[k] * a.stride + t * a.dilation - a.pad_begin));
    target = "input";
  } else if (g.kind === "scatter" && classes.contains("input")) {
    lists = g.axes.map((a, k) => range(a.kernel).map((t) => index[k] * a.stride + t * a.dilation - a.crop));
    target = "output";
  } else if (g.kind === "scatter" && classes.contains("output")) {
    lists = g.axes.map((a, k) => range(a.kernel).map((t) => index[k] + a.crop - t * a.dilation)
      .filter((f) => f % a.stride === 0 && f >= 0 && f / a.stride < a.size).map((f) => f / a.stride));
    target = "input";
  }
  if (!lists) return [];
  return product(lists).flatMap((at) => [...svg.querySelectorAll(`.cell.${target}[data-index="${at.join(",")}"]`)]);
}

function onHover(event) {
  const svg = $("picture").querySelector("svg");
  if (!svg) return;
  for (const el of svg.querySelectorAll(".hl, .hover")) el.classList.remove("hl", "hover");
  const cell = event.target.closest && event.target.closest(".cell");
  if (!cell || !svg.contains(cell)) return;
  cell.classList.add("hover");
  for (const el of related(svg, cell)) el.classList.add("hl");
}

function onClick(event) {
  const svg = $("picture").querySelector("svg");
  const cell = event.target.closest && event.target.closest(".cell");
  if (!svg || !cell) return;
  const g = geometryOf(svg);
  if (!g) return;
  let position = null;
  if (g.kind === "window" && cell.classList.contains("output")) position = cell.dataset.index;
  if (g.kind === "scatter" && cell.classList.contains("input")) position = cell.dataset.index;
  if (g.kind === "unfold" && cell.dataset.col !== undefined) {
    let rest = Number(cell.dataset.col);
    const at = [];
    for (const a of [...g.axes].reverse()) { at.unshift(rest % a.out); rest = Math.floor(rest / a.out); }
    position = at.join(",");
  }
  if (position === null) return;
  state.position = position;
  $("position").value = position;
  writeURL();
  drawPicture();
}

// ------------------------------------------------------------------ solver
function showSearch(controls) {
  const params = [...new Set(controls.map((c) => c.param))];
  const chosen = new Set(state.search.split(",").filter(Boolean));
  const box = $("search");
  const key = params.join(",");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren();
  for (const param of params) {
    const label = document.createElement("label");
    const check = document.createElement("input");
    check.type = "checkbox";
    check.id = `search-${param}`;
    check.value = param;
    check.checked = chosen.has(param);
    check.addEventListener("change", () => {
      state.search = [...box.querySelectorAll("input:checked")].map((c) => c.value).join(",");
      writeURL();
    });
    label.appendChild(check);
    label.appendChild(document.createTextNode(` ${param}`));
    box.appendChild(label);
  }
}

async function solve() {
  const out = $("solutions");
  out.replaceChildren();
  item(out, "solving…", "p").className = "muted";
  try {
    const answer = await post("/api/solve", body({output: state.target,
                                                   search: state.search.split(",").filter(Boolean)}));
    out.replaceChildren();
    if (!answer.solutions.length) {
      item(out, "no solution:", "p");
      const reasons = document.createElement("ul");
      for (const reason of answer.reasons) item(reasons, reason);
      out.appendChild(reasons);
      return;
    }
    const shown = answer.total > answer.solutions.length ? ` (the ${answer.solutions.length} simplest shown)` : "";
    item(out, `${answer.total} solution${answer.total === 1 ? "" : "s"}, simplest first${shown}:`, "p");
    const list = document.createElement("ol");
    for (const s of answer.solutions) {
      const li = document.createElement("li");
      li.className = "solution";
      const code = document.createElement("code");
      code.textContent = s.layer;
      li.appendChild(code);
      li.appendChild(document.createTextNode(` → ${shape(s.output_shape)} `));
      const use = document.createElement("button");
      use.type = "button";
      use.className = "small";
      use.textContent = "use";
      use.addEventListener("click", () => {
        state.layer = s.layer;
        $("layer").value = s.layer;
        update();
      });
      li.appendChild(use);
      list.appendChild(li);
    }
    out.appendChild(list);
  } catch (err) {
    out.replaceChildren();
    item(out, err.message, "p").className = "error";
  }
}

// ------------------------------------------------------------------ wiring
function bind(id, key, ms, after) {
  const el = $(id);
  el.addEventListener(el.tagName === "SELECT" ? "change" : "input", () => {
    state[key] = el.value;
    if (after) after();
    schedule(ms);
  });
}

function fitLayerBox() {
  const lines = $("layer").value.split("\n").length;
  $("layer").rows = Math.min(Math.max(lines + 1, 4), 18);
}

bind("layer", "layer", 300, fitLayerBox);
bind("input", "input", 300);
bind("framework", "framework", 0);
bind("kind", "kind", 0, () => { state.position = ""; $("position").value = ""; });
bind("position", "position", 300);
$("target").addEventListener("input", () => { state.target = $("target").value; writeURL(); });
$("target").addEventListener("keydown", (e) => { if (e.key === "Enter") solve(); });
$("solve").addEventListener("click", solve);
$("picture").addEventListener("mouseover", onHover);
$("picture").addEventListener("mouseleave", onHover);
$("picture").addEventListener("click", onClick);
readURL();
update();
