// inpaintkit web page: paint a mask, pick a method, run, compare, download.
// Plain JavaScript ES modules, no build step, no external files. Talks to the JSON API under
// api/. Modules: state.js (shared state, helpers), methods.js (method panel and options),
// mask.js (painting), jobs.js (jobs, progress, results); this file opens images and wires it up.
import { cancel, compare, run, setBaSplit, updateOverlay } from "./jobs.js";
import {
  clearMask, generateMask, maskChanged, redo, setBrush, setTool, setupCanvas, undo, uploadMask,
} from "./mask.js";
import { loadServerInfo, showMethod } from "./methods.js";
import { $, apiError, hideMessage, setTab, showMessage, state } from "./state.js";

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
