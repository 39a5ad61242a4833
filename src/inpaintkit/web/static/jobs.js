// Jobs (submit, follow, cancel), progress, and the before/after and compare views.
import { maskBlob, maskChanged } from "./mask.js";
import { chosenOptions } from "./methods.js";
import { $, apiError, extOf, hideMessage, setTab, showMessage, state } from "./state.js";

// ------------------------------------------------------------------ jobs
export async function submitJob(method, options) {
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

// A method that reports no steps shows the seconds it has been running, refreshed by a timer.
let ticker = null;

function stopTicker() {
  clearInterval(ticker);
  ticker = null;
}

export function showProgress(job) {
  $("progress").hidden = false;
  const fill = $("progress-fill");
  const text = $("progress-text");
  fill.classList.remove("indeterminate");
  if (!(job.status === "running" && !job.total)) stopTicker();
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
    if (!ticker) {
      const since = Date.now();
      const tick = () => {
        const secs = Math.round((Date.now() - since) / 1000);
        text.textContent = `${job.method}: running… ${secs} s`;
      };
      tick();
      ticker = setInterval(tick, 500);
    }
  } else {
    fill.style.width = job.status === "done" ? "100%" : "0%";
    const secs = job.seconds === null ? "" : ` in ${job.seconds.toFixed(2)} s`;
    text.textContent = `${job.method}: ${job.status}${secs}`;
  }
  document.body.dataset.job = job.status;
}

// Follow a job over server-sent events (polling if the stream breaks); resolve when final.
export function followJob(job) {
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

export function setBusy(job) {
  state.job = job;
  $("btn-cancel").disabled = !job;
  maskChanged();
}

// "telea: message", unless the message names the method first already (never "m: m: ...").
export function withMethod(method, text) {
  return text.startsWith(method) ? text : `${method}: ${text}`;
}

export async function runMethods(methods, options, onDone) {
  hideMessage();
  const done = [];
  for (const method of methods) {
    let job;
    try {
      job = await submitJob(method, options(method));
    } catch (e) {
      showMessage(methods.length > 1 ? withMethod(method, e.message) : e.message);
      break;
    }
    setBusy(job);
    showProgress(job);
    const final = await followJob(job);
    setBusy(null);
    if (final.status !== "done") {
      const kind = final.status === "cancelled" ? "info" : "error";
      const text = final.error || final.status;
      showMessage(methods.length > 1 ? withMethod(method, text) : text, kind);
      break;
    }
    done.push(final);
    if (onDone) onDone(final);
  }
  return done;
}

export async function run() {
  const method = $("method").value;
  const jobs = await runMethods([method], () => chosenOptions());
  if (jobs.length) showResult(jobs[0]);
}

export async function compare() {
  const methods = [...$("compare-methods").querySelectorAll("input:checked")].map((c) => c.value);
  if (!methods.length) return showMessage("tick at least one method to compare", "info");
  const selected = $("method").value;
  $("compare-grid").innerHTML = "";
  $("compare-grid").append(tile("original", state.previewUrl, null, null));
  $("tab-compare").disabled = false;
  setTab("compare");
  await runMethods(methods, (m) => (m === selected ? chosenOptions() : {}), addResult);
}

export async function cancel() {
  if (!state.job) return;
  await fetch(state.job.urls.cancel, { method: "POST" });
}


// ------------------------------------------------------------------ results
export function resultName(job, sample = null) {
  const part = sample === null ? "" : `_${sample}`;
  return `${job.input.name}_${job.method}${part}.${extOf(job.input.format)}`;
}

export function showResult(job) {
  state.current = job;
  $("ba-before").src = state.previewUrl;
  const link = $("download");
  link.textContent = `Download ${job.input.format === "JPEG" ? "JPEG" : job.input.format}`;
  showSamples(job);
  pickSample(job, 1);
  const secs = job.seconds === null ? "" : `, ${job.seconds.toFixed(2)} s`;
  const model = job.model ? `, model ${job.model}` : "";
  $("result-info").textContent = `${job.method}${model}${secs}`;
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
  overlay.value = "";  // overlays (e.g. deepfill's attention) are off until asked for
  updateOverlay();
  setBaSplit(Number($("ba-slider").value));
  $("tab-result").disabled = false;
  setTab("result");
  document.body.dataset.result = job.id;
}

// The URL of fill `k` (1 = the best) of a job; a job of one fill has only its result.
function sampleUrl(job, k) {
  return k > 1 ? job.urls.samples[k - 1] : job.urls.result;
}

function withQuery(url, query) {
  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}

// A job run with samples=K shows its K fills as thumbnails; clicking one shows it.
function showSamples(job) {
  const strip = $("samples-strip");
  strip.innerHTML = "";
  const k = job.samples || 1;
  $("samples").hidden = k < 2;
  for (let i = 1; k > 1 && i <= k; i++) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "sample-thumb";
    b.dataset.sample = String(i);
    b.setAttribute("role", "option");
    b.title = i === 1 ? "fill 1 (lowest search loss)" : `fill ${i}`;
    const img = document.createElement("img");
    img.src = withQuery(sampleUrl(job, i), "format=png");
    img.alt = `fill ${i}`;
    b.append(img);
    b.addEventListener("click", () => pickSample(job, i));
    strip.append(b);
  }
}

// Make fill `k` the shown and downloadable result.
export function pickSample(job, k) {
  const url = sampleUrl(job, k);
  $("ba-after").src = withQuery(url, "format=png");
  const link = $("download");
  link.href = withQuery(url, "download=1");
  link.download = resultName(job, (job.samples || 1) > 1 ? k : null);
  for (const b of $("samples-strip").children) {
    b.setAttribute("aria-selected", String(b.dataset.sample === String(k)));
  }
  document.body.dataset.sample = String(k);
}

export function updateOverlay() {
  const img = $("overlay-img");
  const url = $("overlay-name").value;
  img.hidden = !url;
  if (url) img.src = url;
  img.style.opacity = String(Number($("overlay-opacity").value) / 100);
}

export function setBaSplit(percent) {
  $("ba-after-clip").style.clipPath = `inset(0 0 0 ${percent}%)`;
  $("ba-line").style.left = `${percent}%`;
}

export function addResult(job) {
  const secs = job.seconds === null ? "" : `${job.seconds.toFixed(2)} s`;
  const info = job.model ? `${job.model} · ${secs}` : secs;
  $("compare-grid").append(tile(job.method, `${job.urls.result}?format=png`, info, job));
}

export function tile(title, src, info, job) {
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
