// Mask painting, undo/redo, upload and generated masks; the mask PNG sent to the server.
import { $, apiError, hideMessage, showMessage, state } from "./state.js";

// ------------------------------------------------------------------ mask painting
export const maskCtx = () => $("mask-canvas").getContext("2d", { willReadFrequently: true });

export function undoDepth() {
  const bytes = state.width * state.height * 4;
  return Math.max(3, Math.min(50, Math.floor(256e6 / Math.max(1, bytes))));
}

export function pushUndo() {
  const ctx = maskCtx();
  state.undo.push(ctx.getImageData(0, 0, state.width, state.height));
  if (state.undo.length > undoDepth()) state.undo.shift();
  state.redo = [];
}

export function undo() {
  if (!state.undo.length) return;
  const ctx = maskCtx();
  state.redo.push(ctx.getImageData(0, 0, state.width, state.height));
  ctx.putImageData(state.undo.pop(), 0, 0);
  maskChanged();
}

export function redo() {
  if (!state.redo.length) return;
  const ctx = maskCtx();
  state.undo.push(ctx.getImageData(0, 0, state.width, state.height));
  ctx.putImageData(state.redo.pop(), 0, 0);
  maskChanged();
}

export function clearMask() {
  pushUndo();
  maskCtx().clearRect(0, 0, state.width, state.height);
  maskChanged();
}

export function holeCount() {
  if (!state.width) return 0;
  const data = maskCtx().getImageData(0, 0, state.width, state.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] >= 128) n++;
  return n;
}

export function maskChanged() {
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

export function canvasPoint(event) {
  const canvas = $("mask-canvas");
  const rect = canvas.getBoundingClientRect();
  const scale = canvas.width / rect.width;
  return { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * scale, scale };
}

let last = null;

export function paint(from, to) {
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

export function moveCursor(event) {
  const cursor = $("brush-cursor");
  const wrap = $("canvas-wrap").getBoundingClientRect();
  cursor.hidden = false;
  cursor.style.width = cursor.style.height = `${state.brush}px`;
  cursor.style.left = `${event.clientX - wrap.left}px`;
  cursor.style.top = `${event.clientY - wrap.top}px`;
  cursor.classList.toggle("eraser", state.tool === "eraser");
}

export function setupCanvas() {
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

export function setBrush(size) {
  state.brush = Math.max(2, Math.min(200, Math.round(size)));
  $("brush-size").value = state.brush;
  $("brush-size-value").textContent = state.brush;
  const cursor = $("brush-cursor");
  cursor.style.width = cursor.style.height = `${state.brush}px`;
}

export function setTool(tool) {
  state.tool = tool;
  $("tool-brush").classList.toggle("active", tool === "brush");
  $("tool-eraser").classList.toggle("active", tool === "eraser");
}

// The mask canvas holds red strokes; the server gets white (hole) on black, alpha >= 128.
export async function maskBlob() {
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
export async function loadMaskPng(blob) {
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

export async function uploadMask(file) {
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

export async function generateMask() {
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
