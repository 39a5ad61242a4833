// The method picker: server info, method panel, option fields and the options to send.
import { $, state } from "./state.js";

// ------------------------------------------------------------------ server info
export async function loadServerInfo() {
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

export function methodInfo(name) {
  return state.methods.find((m) => m.name === name);
}

export function showMethod() {
  const m = methodInfo($("method").value);
  if (!m) return;
  $("method-summary").textContent = m.summary;
  const models = $("method-models");
  models.className = "models";
  if (m.needs_model && m.models.length) {
    const others = m.models.filter((x) => x !== m.default_model);
    models.textContent = `Model: ${m.default_model} (the default)` +
      (others.length ? `; also installed: ${others.join(", ")}` : "");
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

export function optionField(o) {
  const label = document.createElement("label");
  label.className = "field option";
  const name = document.createElement("span");
  name.textContent = o.name;
  name.title = `${o.help}\n(${o.annotation}, default ${JSON.stringify(o.default)})`;
  let input;
  if (o.choices) {
    // A choice is a select box. Nothing is pre-selected but the default: for `model` that is
    // "(default: NAME)", which sends nothing, so the server runs the method's default model.
    input = document.createElement("select");
    const method = methodInfo($("method").value);
    if (o.name === "model" && method && method.default_model) {
      input.add(new Option(`(default: ${method.default_model})`, ""));
    } else if (o.nullable) {
      input.add(new Option("(default)", ""));
    }
    for (const c of o.choices) input.add(new Option(String(c), String(c)));
    input.value = o.default === null ? "" : String(o.default);
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
  if (o.help) {
    const help = document.createElement("small");
    help.className = "help";
    help.textContent = o.help;
    label.append(help);
  }
  return label;
}

// Only options the user changed are sent; the server types and checks them.
export function chosenOptions() {
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
