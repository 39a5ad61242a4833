// Shared state and small helpers of the web page (ES module).

export const $ = (id) => document.getElementById(id);

export const state = {
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
export async function apiError(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    return JSON.stringify(body.detail);
  } catch (e) {
    return `${response.status} ${response.statusText}`;
  }
}

export function showMessage(text, kind = "error") {
  $("message-text").textContent = text;
  $("message").className = `message ${kind}`;
  $("message").hidden = false;
}

export function hideMessage() {
  $("message").hidden = true;
}

export function setTab(name) {
  for (const t of ["edit", "result", "compare"]) {
    $(`tab-${t}`).classList.toggle("active", t === name);
    $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
    $(`view-${t}`).hidden = t !== name;
  }
}

export function extOf(format) {
  return { JPEG: "jpg", PNG: "png", WEBP: "webp", TIFF: "tif", BMP: "bmp" }[format] || "png";
}
