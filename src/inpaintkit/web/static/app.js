// inpaintkit web page: paint a mask, pick a method, run, compare, download.
// Plain JavaScript, no build step, no external files. Talks to the JSON API under api/.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  file: null,          // the uploaded File (sent as is, so the server keeps format/EXIF/alpha)
  width: 0,            // upright size, as the server sees it
  height: 0,
  previewUrl: null,    // object URL of the upright PNG from api/preview
  methods: [],         // from api/methods
  tool: "brush",
  brush: 30,           // brush diameter in screen pixels
  undo: [],            // ImageData snapshots of the mask
  redo: [],
  job: null,           // the running job (JSON)
  source: null,        // EventSource of the running job
  current: null,       // the job shown in the before/after view
};

// ------------------------------------------------------------------ helpers

async function apiError(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    return JSON.stringify(body.detail);
  } catch (e) {
    return `${response.status} ${response.statusText}`;
  }
}

function showMessage(text, kind = "error") {
  $("message-text").textContent = text;
  $("message").className = `message ${kind}`;
  $("message").hidden = false;
}

function hideMessage() {
  $("message").hidden = true;
}

function setTab(name) {
  for (const t of ["edit", "result", "compare"]) {
    $(`tab-${t}`).classList.toggle("active", t === name);
    $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
    $(`view-${t}`).hidden = t !== name;
  }
}

function extOf(format) {
  return { JPEG: "jpg", PNG: "png", WEBP: "webp", TIFF: "tif", BMP: "bmp" }[format] || "png";
}

// ------------------------------------------------------------------ server info

async function loadServerInfo() {
  const [health, methods, masks] = await Promise.all([
    fetch("api/health").then((r) => r.json()),
    fetch("api/methods").then((r) => r.json()),
    fetch("api/masks").then((r) => r.json()),
  ]);
  const lim = health.limits;
  $("server-status").textContent =
    `v${health.version} · ${health.device} · up to ${(lim.max_pixels / 1e6).toFixed(0)} MP, ` +
    `${(lim.max_upload_bytes / 1e6).toFixed(0)} MB · timeout ${lim.timeout} s`;
  state.methods = methods;
  const select = $("method");
  select.innerHTML = "";
  for (const m of methods) {
    const opt = new Option(m.ready ? m.name : `${m.name} (no model installed)`, m.name);
    select.add(opt);
  }
  select.value = methods.some((m) => m.name === "telea") ? "telea" : methods[0].name;
  showMethod();
  const kinds = $("mask-kind");
  for (const k of masks) kinds.add(new Option(k.name, k.name));
  const box = $("compare-methods");
  const preferred = ["telea", "ns", "patchmatch", "tv"];
  for (const m of methods) {
    const label = document.createElement("label");
    label.className = m.ready ? "check" : "check disabled";
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.value = m.name;
    cb.disabled = !m.ready;
    cb.checked = m.ready && preferred.includes(m.name);
    label.append(cb, ` ${m.name}`);
    label.title = m.ready ? m.summary : `${m.name}: ${m.needs}`;
    box.append(label);
  }
}

function methodInfo(name) {
  return state.methods.find((m) => m.name === name);
}

function showMethod() {
  const m = methodInfo($("method").value);
  if (!m) return;
  $("method-summary").textContent = m.summary;
  const models = $("method-models");
  models.className = "models";
  if (m.needs_model && m.models.length) {
    models.textContent = `Installed models: ${m.models.join(", ")}`;
  } else if (m.needs_model) {
    models.textContent = `No model installed. Needs ${m.needs}.`;
    models.className = "models warning";
  } else {
    models.textContent = `Needs ${m.needs}.`;
  }
  const box = $("method-options");
  box.innerHTML = "";
  for (const o of m.options) box.append(optionField(o));
  $("method-options-count").textContent = `(${m.options.length})`;
  $("method-options-box").hidden = m.options.length === 0;
}

function optionField(o) {
  const label = document.createElement("label");
  label.className = "field option";
  const name = document.createElement("span");
  name.textContent = o.name;
  name.title = `${o.annotation}, default ${JSON.stringify(o.default)}`;
  let input;
  if (o.choices) {
    input = document.createElement("select");
    if (o.nullable) input.add(new Option("(default)", ""));
    for (const c of o.choices) input.add(new Option(c, c));
    if (o.name === "model" && o.choices.length) input.value = o.choices[0];
  } else if (o.type === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = Boolean(o.default);
    label.classList.add("inline");
  } else {
    input = document.createElement("input");
    input.type = o.type === "str" ? "text" : "number";
    if (o.type === "int") input.step = "1";
    if (o.type === "float") input.step = "any";
    input.value = o.default === null ? "" : String(o.default);
    input.placeholder = o.default === null ? "default" : "";
  }
  input.dataset.option = o.name;
  input.dataset.type = o.type;
  input.dataset.default = JSON.stringify(o.default);
  label.append(name, input);
  return label;
}

// Only options the user changed are sent; the server types and checks them.
function chosenOptions() {
  const out = {};
  for (const input of $("method-options").querySelectorAll("[data-option]")) {
    const def = JSON.parse(input.dataset.default);
    let value;
    if (input.type === "checkbox") value = input.checked;
    else if (input.value.trim() === "") continue;
    else if (input.dataset.type === "int" || input.dataset.type === "float") {
      value = Number(input.value);
    } else value = input.value;
    if (value !== def) out[input.dataset.option] = value;
  }
  return out;
}

// ------------------------------------------------------------------ image

async function openImage(file) {
  hideMessage();
  const form = new FormData();
  form.append("image", file, file.name);
  const r = await fetch("api/preview", { method: "POST", body: form });
  if (!r.ok) {
    showMessage(await apiError(r));
    return;
  }
  const blob = await r.blob();
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.file = file;
  state.previewUrl = URL.createObjectURL(blob);
  state.width = Number(r.headers.get("X-Image-Width"));
  state.height = Number(r.headers.get("X-Image-Height"));
  const img = $("img-source");
  await new Promise((resolve) => {
    img.onload = resolve;
    img.src = state.previewUrl;
  });
  fitDisplay();
  const canvas = $("mask-canvas");
  canvas.width = state.width;
  canvas.height = state.height;
  state.undo = [];
  state.redo = [];
  $("compare-grid").innerHTML = "";  // results of the previous image
  $("tab-result").disabled = true;
  $("tab-compare").disabled = true;
  $("placeholder").hidden = true;
  $("canvas-wrap").hidden = false;
  const fmt = r.headers.get("X-Image-Format");
  const alpha = r.headers.get("X-Image-Alpha") === "1" ? ", alpha" : "";
  const depth = r.headers.get("X-Image-Bit-Depth");
  $("image-info").textContent =
    `${file.name}: ${state.width}×${state.height} ${fmt}, ${depth}-bit${alpha}`;
  document.body.dataset.image = "loaded";
  setTab("edit");
  maskChanged();
}

// Show the image as large as the workspace allows (small images are scaled up, pixelated).
function fitDisplay() {
  if (!state.width) return;
  const avail = document.querySelector(".workspace").clientWidth - 40;
  const maxHeight = Math.max(240, window.innerHeight * 0.72);
  const w = Math.max(64, Math.min(avail, (maxHeight * state.width) / state.height));
  for (const el of [$("img-source"), $("ba-before")]) el.style.width = `${w}px`;
  $("ba").style.width = `${w}px`;
  document.body.classList.toggle("pixelated", w / state.width >= 2);
}

// ------------------------------------------------------------------ mask painting

const maskCtx = () => $("mask-canvas").getContext("2d", { willReadFrequently: true });

function undoDepth() {
  const bytes = state.width * state.height * 4;
  return Math.max(3, Math.min(50, Math.floor(256e6 / Math.max(1, bytes))));
}

function pushUndo() {
  const ctx = maskCtx();
  state.undo.push(ctx.getImageData(0, 0, state.width, state.height));
  if (state.undo.length > undoDepth()) state.undo.shift();
  state.redo = [];
}

function undo() {
  if (!state.undo.length) return;
  const ctx = maskCtx();
  state.redo.push(ctx.getImageData(0, 0, state.width, state.height));
  ctx.putImageData(state.undo.pop(), 0, 0);
  maskChanged();
}

function redo() {
  if (!state.redo.length) return;
  const ctx = maskCtx();
  state.undo.push(ctx.getImageData(0, 0, state.width, state.height));
  ctx.putImageData(state.redo.pop(), 0, 0);
  maskChanged();
}

function clearMask() {
  pushUndo();
  maskCtx().clearRect(0, 0, state.width, state.height);
  maskChanged();
}

function holeCount() {
  if (!state.width) return 0;
  const data = maskCtx().getImageData(0, 0, state.width, state.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] >= 128) n++;
  return n;
}

function maskChanged() {
  const holes = holeCount();
  const total = state.width * state.height;
  $("mask-info").textContent = holes
    ? `hole: ${holes} px (${((100 * holes) / total).toFixed(1)} %)`
    : "paint over what to remove";
  $("btn-undo").disabled = !state.undo.length;
  $("btn-redo").disabled = !state.redo.length;
  $("btn-clear").disabled = !holes;
  const busy = Boolean(state.job);
  $("btn-run").disabled = busy || !state.file || !holes;
  $("btn-compare").disabled = busy || !state.file || !holes;
  document.body.dataset.mask = holes ? "painted" : "empty";
}

function canvasPoint(event) {
  const canvas = $("mask-canvas");
  const rect = canvas.getBoundingClientRect();
  const scale = canvas.width / rect.width;
  return { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * scale, scale };
}

let last = null;

function paint(from, to) {
  const ctx = maskCtx();
  ctx.save();
  ctx.globalCompositeOperation = state.tool === "eraser" ? "destination-out" : "source-over";
  ctx.strokeStyle = "rgb(255, 0, 0)";
  ctx.fillStyle = "rgb(255, 0, 0)";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = state.brush * to.scale;
  ctx.beginPath();
  if (from.x === to.x && from.y === to.y) {
    ctx.arc(to.x, to.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }
  ctx.restore();
}

function moveCursor(event) {
  const cursor = $("brush-cursor");
  const wrap = $("canvas-wrap").getBoundingClientRect();
  cursor.hidden = false;
  cursor.style.width = cursor.style.height = `${state.brush}px`;
  cursor.style.left = `${event.clientX - wrap.left}px`;
  cursor.style.top = `${event.clientY - wrap.top}px`;
  cursor.classList.toggle("eraser", state.tool === "eraser");
}

function setupCanvas() {
  const canvas = $("mask-canvas");
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || !state.file) return;
    canvas.setPointerCapture(e.pointerId);
    pushUndo();
    last = canvasPoint(e);
    paint(last, last);
  });
  canvas.addEventListener("pointermove", (e) => {
    moveCursor(e);
    if (!last) return;
    const p = canvasPoint(e);
    paint(last, p);
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = null;
    maskChanged();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", () => ($("brush-cursor").hidden = true));
}

function setBrush(size) {
  state.brush = Math.max(2, Math.min(200, Math.round(size)));
  $("brush-size").value = state.brush;
  $("brush-size-value").textContent = state.brush;
  const cursor = $("brush-cursor");
  cursor.style.width = cursor.style.height = `${state.brush}px`;
}

function setTool(tool) {
  state.tool = tool;
  $("tool-brush").classList.toggle("active", tool === "brush");
  $("tool-eraser").classList.toggle("active", tool === "eraser");
}

// The mask canvas holds red strokes; the server gets white (hole) on black, alpha >= 128.
async function maskBlob() {
  const src = maskCtx().getImageData(0, 0, state.width, state.height).data;
  const out = new ImageData(state.width, state.height);
  for (let i = 0; i < src.length; i += 4) {
    const v = src[i + 3] >= 128 ? 255 : 0;
    out.data[i] = out.data[i + 1] = out.data[i + 2] = v;
    out.data[i + 3] = 255;
  }
  const c = document.createElement("canvas");
  c.width = state.width;
  c.height = state.height;
  c.getContext("2d").putImageData(out, 0, 0);
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

// Draw a server mask PNG (white = hole) into the canvas as red strokes.
async function loadMaskPng(blob) {
  const bitmap = await createImageBitmap(blob);
  const c = document.createElement("canvas");
  c.width = state.width;
  c.height = state.height;
  const cctx = c.getContext("2d");
  cctx.drawImage(bitmap, 0, 0);
  const src = cctx.getImageData(0, 0, state.width, state.height).data;
  const out = new ImageData(state.width, state.height);
  for (let i = 0; i < src.length; i += 4) {
    if (src[i] >= 128) {
      out.data[i] = 255;
      out.data[i + 3] = 255;
    }
  }
  pushUndo();
  maskCtx().putImageData(out, 0, 0);
  maskChanged();
}

async function uploadMask(file) {
  if (!state.file) return showMessage("open an image first, then its mask");
  hideMessage();
  const form = new FormData();
  form.append("mask", file, file.name);
  form.append("width", state.width);
  form.append("height", state.height);
  const r = await fetch("api/mask", { method: "POST", body: form });
  if (!r.ok) return showMessage(await apiError(r));
  await loadMaskPng(await r.blob());
}

async function generateMask() {
  if (!state.file) return showMessage("open an image first, then generate a mask for it");
  hideMessage();
  const kind = $("mask-kind").value;
  const seed = Number($("mask-seed").value) || 0;
  const url = `api/masks/${encodeURIComponent(kind)}?width=${state.width}` +
    `&height=${state.height}&seed=${seed}`;
  const r = await fetch(url);
  if (!r.ok) return showMessage(await apiError(r));
  await loadMaskPng(await r.blob());
}

// ------------------------------------------------------------------ jobs

async function submitJob(method, options) {
  const form = new FormData();
  form.append("image", state.file, state.file.name);
  form.append("mask", await maskBlob(), "mask.png");
  form.append("method", method);
  form.append("options", JSON.stringify(options));
  form.append("dilate", String(Number($("dilate").value) || 0));
  const r = await fetch("api/jobs", { method: "POST", body: form });
  if (!r.ok) throw new Error(await apiError(r));
  return r.json();
}

function showProgress(job) {
  $("progress").hidden = false;
  const fill = $("progress-fill");
  const text = $("progress-text");
  fill.classList.remove("indeterminate");
  if (job.status === "queued") {
    fill.style.width = "0%";
    text.textContent = job.position ? `${job.method}: waiting (${job.position} ahead)` :
      `${job.method}: starting…`;
  } else if (job.status === "running" && job.total) {
    fill.style.width = `${(100 * job.step) / job.total}%`;
    const loss = job.loss === null ? "" : ` · loss ${job.loss.toPrecision(4)}`;
    text.textContent = `${job.method}: step ${job.step} / ${job.total}${loss}`;
  } else if (job.status === "running") {
    fill.style.width = "100%";
    fill.classList.add("indeterminate");
    text.textContent = `${job.method}: running…`;
  } else {
    fill.style.width = job.status === "done" ? "100%" : "0%";
    const secs = job.seconds === null ? "" : ` in ${job.seconds.toFixed(2)} s`;
    text.textContent = `${job.method}: ${job.status}${secs}`;
  }
  document.body.dataset.job = job.status;
}

// Follow a job over server-sent events (polling if the stream breaks); resolve when final.
function followJob(job) {
  return new Promise((resolve) => {
    const finalStates = ["done", "failed", "cancelled", "timeout"];
    const source = new EventSource(job.urls.events);
    state.source = source;
    let finished = false;
    const finish = (j) => {
      if (finished) return;
      finished = true;
      source.close();
      showProgress(j);
      resolve(j);
    };
    source.addEventListener("progress", (e) => showProgress(JSON.parse(e.data)));
    source.addEventListener("end", (e) => finish(JSON.parse(e.data)));
    source.onerror = () => {
      source.close();
      const poll = async () => {
        if (finished) return;
        const r = await fetch(job.urls.self);
        if (!r.ok) return finish({ ...job, status: "failed", error: await apiError(r) });
        const j = await r.json();
        showProgress(j);
        if (finalStates.includes(j.status)) finish(j);
        else setTimeout(poll, 500);
      };
      poll();
    };
  });
}

function setBusy(job) {
  state.job = job;
  $("btn-cancel").disabled = !job;
  maskChanged();
}

async function runMethods(methods, options, onDone) {
  hideMessage();
  const done = [];
  for (const method of methods) {
    let job;
    try {
      job = await submitJob(method, options(method));
    } catch (e) {
      showMessage(methods.length > 1 ? `${method}: ${e.message}` : e.message);
      break;
    }
    setBusy(job);
    showProgress(job);
    const final = await followJob(job);
    setBusy(null);
    if (final.status !== "done") {
      const kind = final.status === "cancelled" ? "info" : "error";
      const text = final.error || final.status;
      showMessage(methods.length > 1 ? `${method}: ${text}` : text, kind);
      break;
    }
    done.push(final);
    if (onDone) onDone(final);
  }
  return done;
}

async function run() {
  const method = $("method").value;
  const jobs = await runMethods([method], () => chosenOptions());
  if (jobs.length) showResult(jobs[0]);
}

async function compare() {
  const methods = [...$("compare-methods").querySelectorAll("input:checked")].map((c) => c.value);
  if (!methods.length) return showMessage("tick at least one method to compare", "info");
  const selected = $("method").value;
  $("compare-grid").innerHTML = "";
  $("compare-grid").append(tile("original", state.previewUrl, null, null));
  $("tab-compare").disabled = false;
  setTab("compare");
  await runMethods(methods, (m) => (m === selected ? chosenOptions() : {}), addResult);
}

async function cancel() {
  if (!state.job) return;
  await fetch(state.job.urls.cancel, { method: "POST" });
}

// ------------------------------------------------------------------ results

function resultName(job) {
  return `${job.input.name}_${job.method}.${extOf(job.input.format)}`;
}

function showResult(job) {
  state.current = job;
  $("ba-before").src = state.previewUrl;
  $("ba-after").src = `${job.urls.result}?format=png`;
  const link = $("download");
  link.href = `${job.urls.result}?download=1`;
  link.download = resultName(job);
  link.textContent = `Download ${job.input.format === "JPEG" ? "JPEG" : job.input.format}`;
  const secs = job.seconds === null ? "" : `, ${job.seconds.toFixed(2)} s`;
  $("result-info").textContent = `${job.method}${secs}`;
  const notes = $("result-notes");
  notes.innerHTML = "";
  for (const n of job.notes || []) {
    const li = document.createElement("li");
    li.textContent = n;
    notes.append(li);
  }
  const overlay = $("overlay-name");
  overlay.innerHTML = "";
  overlay.add(new Option("none", ""));
  for (const x of job.extras || []) overlay.add(new Option(x.name, x.url));
  $("overlay-controls").hidden = !(job.extras || []).length;
  if ((job.extras || []).length) overlay.value = job.extras[0].url;
  updateOverlay();
  setBaSplit(Number($("ba-slider").value));
  $("tab-result").disabled = false;
  setTab("result");
  document.body.dataset.result = job.id;
}

function updateOverlay() {
  const img = $("overlay-img");
  const url = $("overlay-name").value;
  img.hidden = !url;
  if (url) img.src = url;
  img.style.opacity = String(Number($("overlay-opacity").value) / 100);
}

function setBaSplit(percent) {
  $("ba-after-clip").style.clipPath = `inset(0 0 0 ${percent}%)`;
  $("ba-line").style.left = `${percent}%`;
}

function addResult(job) {
  const secs = job.seconds === null ? "" : `${job.seconds.toFixed(2)} s`;
  $("compare-grid").append(tile(job.method, `${job.urls.result}?format=png`, secs, job));
}

function tile(title, src, info, job) {
  const fig = document.createElement("figure");
  fig.className = "tile checker";
  const img = document.createElement("img");
  img.src = src;
  img.alt = title;
  const cap = document.createElement("figcaption");
  const strong = document.createElement("strong");
  strong.textContent = title;
  cap.append(strong);
  if (info) cap.append(` ${info}`);
  if (job) {
    const a = document.createElement("a");
    a.href = `${job.urls.result}?download=1`;
    a.download = resultName(job);
    a.textContent = "download";
    const view = document.createElement("button");
    view.type = "button";
    view.className = "link";
    view.textContent = "before/after";
    view.addEventListener("click", () => showResult(job));
    cap.append(" · ", view, " · ", a);
    fig.dataset.method = job.method;
  }
  fig.append(img, cap);
  return fig;
}

// ------------------------------------------------------------------ wiring

function isTyping(target) {
  const tag = target.tagName;
  return (tag === "INPUT" && target.type !== "range" && target.type !== "checkbox") ||
    tag === "TEXTAREA" || tag === "SELECT";
}

function onKey(e) {
  if (isTyping(e.target)) return;
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === "z") {
    e.preventDefault();
    if (e.shiftKey) redo();
    else undo();
  } else if (mod && e.key.toLowerCase() === "y") {
    e.preventDefault();
    redo();
  } else if (!mod && e.key === "[") {
    setBrush(state.brush - Math.max(2, state.brush * 0.1));
  } else if (!mod && e.key === "]") {
    setBrush(state.brush + Math.max(2, state.brush * 0.1));
  } else if (!mod && e.key.toLowerCase() === "b") {
    setTool("brush");
  } else if (!mod && e.key.toLowerCase() === "e") {
    setTool("eraser");
  }
}

function setupDrop() {
  const stage = $("stage");
  for (const type of ["dragenter", "dragover"]) {
    stage.addEventListener(type, (e) => {
      e.preventDefault();
      stage.classList.add("dragging");
    });
  }
  stage.addEventListener("dragleave", () => stage.classList.remove("dragging"));
  stage.addEventListener("drop", (e) => {
    e.preventDefault();
    stage.classList.remove("dragging");
    const file = e.dataTransfer.files[0];
    if (file) openImage(file);
  });
}

function wire() {
  $("file-image").addEventListener("change", (e) => {
    if (e.target.files[0]) openImage(e.target.files[0]);
    e.target.value = "";
  });
  $("file-mask").addEventListener("change", (e) => {
    if (e.target.files[0]) uploadMask(e.target.files[0]);
    e.target.value = "";
  });
  $("tool-brush").addEventListener("click", () => setTool("brush"));
  $("tool-eraser").addEventListener("click", () => setTool("eraser"));
  $("brush-size").addEventListener("input", (e) => setBrush(Number(e.target.value)));
  $("btn-undo").addEventListener("click", undo);
  $("btn-redo").addEventListener("click", redo);
  $("btn-clear").addEventListener("click", clearMask);
  $("btn-generate").addEventListener("click", generateMask);
  $("method").addEventListener("change", showMethod);
  $("btn-reset-options").addEventListener("click", showMethod);
  $("btn-run").addEventListener("click", run);
  $("btn-cancel").addEventListener("click", cancel);
  $("btn-compare").addEventListener("click", compare);
  $("ba-slider").addEventListener("input", (e) => setBaSplit(Number(e.target.value)));
  $("overlay-name").addEventListener("change", updateOverlay);
  $("overlay-opacity").addEventListener("input", updateOverlay);
  $("message-close").addEventListener("click", hideMessage);
  for (const t of ["edit", "result", "compare"]) {
    $(`tab-${t}`).addEventListener("click", () => setTab(t));
  }
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", fitDisplay);
  setupCanvas();
  setupDrop();
}

wire();
setBrush(state.brush);
loadServerInfo()
  .then(() => (document.body.dataset.ready = "1"))
  .catch((e) => showMessage(`cannot reach the server: ${e.message}`));
