/* izdat studio: plain JavaScript, no framework, nothing fetched from elsewhere. */
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const state = { info: null, sources: {}, timers: {}, running: {}, uploading: {} };

function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) node.append(kid);
  return node;
}

/* replaceChildren without the "null" text a left-out part would become */
function put(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  return node;
}

function toast(message) {
  const t = $("#toast");
  t.textContent = message;
  t.classList.remove("hidden");
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => t.classList.add("hidden"), 6000);
}

/* The token this studio put into its page: every change (POST, DELETE) sends it back, so that no other
   site the browser visits can start or delete anything here. */
const TOKEN = ($('meta[name="izdat-token"]') || {}).content || "";

async function api(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    options = { ...options, headers: { ...(options.headers || {}), "X-Izdat-Token": TOKEN } };
  }
  const res = await fetch(path, { credentials: "same-origin", ...options });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const err = new Error((body && body.error) || `the studio answered ${res.status}`);
    err.fixes = (body && body.fixes) || [];
    throw err;
  }
  return body;
}
const postJSON = (path, data) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
const fileURL = (job, name, download) => `/api/jobs/${encodeURIComponent(job)}/files/${encodeURIComponent(name)}${download ? "?download=1" : ""}`;

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/* ---------------------------------------------------------------- pages */

function showPage() {
  const page = (location.hash || "#cut").slice(1).split("/")[0] || "cut";
  $$(".page").forEach((p) => p.classList.toggle("active", p.dataset.page === page));
  $$(".tabs a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
  if (page === "shelf") loadShelf();
  if (page === "play") loadCutChoices();
}

/* ---------------------------------------------------------------- uploads */

function setupDrop(drop) {
  const input = $("input[type=file]", drop);
  const target = drop.dataset.target;
  const kind = drop.dataset.kind;
  const name = $(".drop-name", drop);
  drop.addEventListener("click", (e) => { if (e.target !== input) input.click(); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files.length) send(e.dataTransfer.files[0]);
  });
  input.addEventListener("change", () => { if (input.files.length) send(input.files[0]); });
  const page = target.split("-")[0];
  async function send(file) {
    const limit = state.info ? state.info.max_upload_bytes : Infinity;
    if (file.size > limit) { toast(`${file.name} is ${bytes(file.size)}, more than the ${bytes(limit)} the studio accepts`); return; }
    name.textContent = `uploading ${file.name}…`;
    drop.classList.add("busy");
    delete state.sources[target];             // the file chosen before is no longer the choice
    drop.classList.remove("chosen");
    const uploads = state.uploading[page] = state.uploading[page] || {};
    uploads[target] = { name: file.name, fraction: 0 };
    updateGo(page);
    try {
      const meta = await uploadFile(kind, file, (fraction) => {
        uploads[target].fraction = fraction;
        name.textContent = `uploading ${file.name}… ${Math.floor(100 * fraction)} %`;
        updateGo(page);
      });
      state.sources[target] = meta.id;
      name.textContent = `${meta.name} · ${meta.format.toUpperCase()} · ${bytes(meta.size)}`;
      drop.classList.add("chosen");
      drop.dispatchEvent(new CustomEvent("uploaded", { detail: meta }));
    } catch (err) {
      delete state.sources[target];
      name.textContent = "refused";
      drop.classList.remove("chosen");
      toast(err.message);
    } finally {
      drop.classList.remove("busy"); input.value = "";
      delete uploads[target];
      updateGo(page);
    }
  }
}

/* An upload as a file (XMLHttpRequest, for its progress events), with the page's token. */
function uploadFile(kind, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/uploads/${kind}`);
    xhr.setRequestHeader("X-Izdat-Token", TOKEN);
    xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new Error((body && body.error) || `the studio answered ${xhr.status}`));
    });
    xhr.addEventListener("error", () => reject(new Error(`the upload of ${file.name} was cut off; try again`)));
    xhr.send(file);
  });
}

const prefix = (page) => (page === "underground" ? "ug" : page);

/* A page's start button: off while its job runs or while a file it would take is still uploading
   (a cut started then would take the song chosen before). */
function updateGo(page) {
  const go = $(`#${prefix(page)}-go`);
  if (!go) return;
  if (!go.dataset.label) go.dataset.label = go.textContent;
  const up = Object.values(state.uploading[page] || {});
  go.disabled = Boolean(state.running[page]) || up.length > 0;
  go.textContent = up.length ? `Wait: uploading ${up[0].name}… ${Math.floor(100 * up[0].fraction)} %` : go.dataset.label;
}

/* Before cutting: how long the side plays, and for the chosen song its programme turns, groove and
   cutting time (GET /api/side; the cut's record.json has the exact figures afterwards). */
function sideNote() {
  clearTimeout(state.sideTimer);
  state.sideTimer = setTimeout(async () => {
    const f = $("#cut-form"), note = $("#cut-side");
    const q = new URLSearchParams({ rpm: $("[name=rpm]", f).value, diameter_mm: $("[name=diameter_mm]", f).value });
    if ($("[name=trim_s]", f).value) q.set("trim_s", $("[name=trim_s]", f).value);
    if (state.sources["cut-song"]) q.set("song", state.sources["cut-song"]);
    let s;
    try { s = await api(`/api/side?${q}`); } catch (err) { note.textContent = err.message; note.classList.add("error"); return; }
    note.classList.remove("error");
    const holds = `This side holds ${mmss(s.capacity_s)} of music.`;
    if (s.seconds === null) { note.textContent = `${holds} Choose a song to see its turns and cutting time.`; return; }
    note.classList.toggle("error", !s.fits);
    note.textContent = s.fits
      ? `${holds} The song (${mmss(s.seconds)}): ${s.programme_turns} programme turns, about ${s.groove_m} m of groove, about ${clock(s.cutting_s)} to cut at ${s.feed_mm_min} mm/min.`
      : `${holds} The song (${mmss(s.seconds)}) does not fit: shorten it, slow down or take a larger disc.`;
  }, 200);
}

function mmss(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function useExample(target, label) {
  state.sources[target] = "example";
  const drop = $(`.drop[data-target=${target}]`);
  if (Object.keys(state.uploading[target.split("-")[0]] || {}).includes(target)) {
    toast("A song is still uploading here; wait for it, then choose.");
    return;
  }
  drop.classList.add("chosen");
  $(".drop-name", drop).textContent = "the example song (examples/song.flac)";
  if (target === "cut-song") sideNote();
}

function formValues(form) {
  const out = {};
  for (const field of $$("input[name], select[name]", form)) {
    if (field.value === "" || field.type === "radio") continue;
    out[field.name] = field.type === "number" || field.type === "range" ? Number(field.value) : field.value;
  }
  return out;
}

/* ---------------------------------------------------------------- jobs */

async function startJob(page, kind, settings) {
  try {
    const job = await postJSON(`/api/jobs/${kind}`, settings);
    localStorage.setItem(`izdat.job.${page}`, job.id);
    watch(page, job.id);
  } catch (err) {
    if (err.fixes && err.fixes.length) showFailure(page, err.message, err.fixes);
    else toast(err.message);
  }
}

function jobBox(page) { return $(`#${prefix(page)}-job`); }

/* Set a form's fields to a fix's settings (a select takes the option of that value) and send it again. */
function applyFix(page, settings) {
  const form = $(`#${prefix(page)}-form`);
  for (const [name, value] of Object.entries(settings)) {
    const field = $(`[name="${name}"]`, form);
    if (!field) continue;
    if (field.tagName === "SELECT") {
      const match = Array.from(field.options).find((o) => o.value !== "" && Math.abs(Number(o.value) - Number(value)) < 0.01) ||
                    Array.from(field.options).find((o) => o.value === String(value));
      if (match) field.value = match.value;
    } else field.value = value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }
  form.requestSubmit();
}

function fixButtons(page, fixes) {
  if (!fixes || !fixes.length) return null;
  return el("div", { class: "fixes" }, fixes.map((f) =>
    el("button", { type: "button", class: "fix", text: f.label, onclick: () => applyFix(page, f.set) })));
}

/* Why a job could not run, in words, and each fix the studio offers as a button that applies it. */
function showFailure(page, message, fixes) {
  const box = jobBox(page);
  box.classList.remove("hidden");
  box.classList.add("failed");
  const text = message.charAt(0).toUpperCase() + message.slice(1) + (fixes && fixes.length ? "." : "");
  put(box, el("p", { class: "msg", text }), fixButtons(page, fixes));
}

function watch(page, id) {
  clearTimeout(state.timers[page]);
  const box = jobBox(page);
  box.classList.remove("hidden");
  box.replaceChildren(
    el("div", { class: "bar" }, el("div", { class: "fill" })),
    el("div", { class: "job-line" }, el("span", { class: "msg", text: "starting" }),
       el("button", { type: "button", class: "cancel", text: "Cancel", onclick: () => cancelJob(page, id) })));
  state.running[page] = true;
  updateGo(page);
  const tick = async () => {
    let job;
    try { job = await api(`/api/jobs/${id}`); } catch (err) {
      box.classList.add("hidden"); state.running[page] = false; updateGo(page); localStorage.removeItem(`izdat.job.${page}`); return;
    }
    $(".fill", box).style.width = `${Math.round(100 * (job.progress || 0))}%`;
    $(".msg", box).textContent = job.state === "running" || job.state === "queued" ? `${job.message || job.state}…${eta(job)}` : job.state;
    if (job.state === "queued" || job.state === "running") { state.timers[page] = setTimeout(tick, 400); return; }
    state.running[page] = false;
    updateGo(page);
    $(".cancel", box).remove();
    if (job.state === "done") {
      box.classList.add("hidden");
      RENDER[page](job);
    } else if (job.state === "failed") {
      showFailure(page, job.error, job.fixes);
    } else {
      box.classList.add("failed");
      $(".msg", box).textContent = job.state === "cancelled" ? "cancelled" : "interrupted: the studio was restarted while this ran";
    }
  };
  box.classList.remove("failed");
  tick();
}

/* " 42 % · about 0:12 left" of a running job (from its start and the fraction done), as the CLI's bars. */
function eta(job) {
  if (job.state !== "running" || !job.started) return "";
  const f = job.progress || 0, took = Date.now() / 1000 - job.started;
  const pct = ` ${Math.floor(100 * f)} %`;
  if (f < 0.05 || took < 2) return pct;
  return `${pct} · about ${mmss(Math.max(0, took * (1 - f) / f))} left`;
}

async function cancelJob(page, id) {
  try { await postJSON(`/api/jobs/${id}/cancel`, {}); } catch (err) { toast(err.message); }
}

/* ---------------------------------------------------------------- zoomable picture */

/* A zoomable picture. ``aim`` ([x, y] as fractions of the picture, and the width of what to see) is
   where the first "+" goes: the music band of a record, not its centre hole. */
function viewer(preview, full, caption, legend, aim) {
  const img = el("img", { src: preview, alt: caption, draggable: "false" });
  const stage = el("div", { class: "stage", tabindex: "0", role: "img", "aria-label": `${caption}; keys: + and − zoom, arrows move, 0 fits` }, img);
  const level = el("span", { class: "zoom-level", text: "100 %" });
  let s = 1, x = 0, y = 0, swapped = false;
  const apply = () => {
    img.style.transform = `translate(${x}px, ${y}px) scale(${s})`;
    level.textContent = `${Math.round(s * 100)} %`;
    if (!swapped && full && s > 1.6) { swapped = true; img.src = full; stage.classList.add("full"); }
  };
  const zoomAt = (factor, cx, cy) => {
    const ns = Math.min(40, Math.max(1, s * factor));
    x = cx - (cx - x) * (ns / s); y = cy - (cy - y) * (ns / s); s = ns;
    if (s === 1) { x = 0; y = 0; }
    apply();
  };
  stage.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = stage.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  stage.addEventListener("pointerdown", (e) => { drag = { x: e.clientX - x, y: e.clientY - y }; stage.setPointerCapture(e.pointerId); stage.classList.add("grab"); });
  stage.addEventListener("pointermove", (e) => { if (drag && s > 1) { x = e.clientX - drag.x; y = e.clientY - drag.y; apply(); } });
  stage.addEventListener("pointerup", () => { drag = null; stage.classList.remove("grab"); });
  stage.addEventListener("dblclick", (e) => { const r = stage.getBoundingClientRect(); zoomAt(2.5, e.clientX - r.left, e.clientY - r.top); });
  const centre = () => { const r = stage.getBoundingClientRect(); return [r.width / 2, r.height / 2]; };
  /* the first step in goes onto ``aim``, centred, near enough to see the band; later ones zoom about the view's centre */
  const zoomIn = () => {
    if (!aim || s > 1) { zoomAt(1.6, ...centre()); return; }
    const r = stage.getBoundingClientRect();
    s = Math.min(12, Math.max(4, 0.25 / Math.max(aim[2] || 0.02, 0.005)));
    x = Math.min(0, Math.max(r.width * (1 - s), r.width / 2 - aim[0] * r.width * s));
    y = Math.min(0, Math.max(r.height * (1 - s), r.height / 2 - aim[1] * r.height * s));
    apply();
  };
  stage.addEventListener("keydown", (e) => {
    const r = stage.getBoundingClientRect(), step = 0.1 * r.width;
    const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (e.key === "+" || e.key === "=") zoomIn();
    else if (e.key === "-" || e.key === "_") zoomAt(1 / 1.6, ...centre());
    else if (e.key === "0") { s = 1; x = 0; y = 0; apply(); }
    else if (moves[e.key] && s > 1) {
      x = Math.min(0, Math.max(r.width * (1 - s), x + moves[e.key][0]));
      y = Math.min(0, Math.max(r.height * (1 - s), y + moves[e.key][1]));
      apply();
    } else return;
    e.preventDefault();
  });
  const tools = el("div", { class: "zoom-tools" },
    el("button", { type: "button", title: aim ? "zoom in (first onto the music band)" : "zoom in", class: "zoom-in", text: "+", onclick: () => zoomIn() }),
    el("button", { type: "button", title: "zoom out", text: "−", onclick: () => zoomAt(1 / 1.6, ...centre()) }),
    el("button", { type: "button", title: "whole record", text: "fit", onclick: () => { s = 1; x = 0; y = 0; apply(); } }),
    level,
    full ? el("a", { href: full, target: "_blank", rel: "noopener", text: "full picture ↗" }) : null);
  return el("figure", { class: "viewer" }, stage, tools, caption ? el("figcaption", { text: caption }) : null,
    legend || null);
}

function player(title, src, note, sonogram) {
  return el("div", { class: "player" }, el("h3", { text: title }),
    el("audio", { controls: true, preload: "metadata", src }),
    note ? el("p", { class: "note", text: note }) : null,
    sonogram ? el("a", { href: sonogram, target: "_blank", rel: "noopener", class: "sono-link" },
      el("img", { class: "sono", src: sonogram, alt: `waveform and spectrogram: ${title}`, loading: "lazy" })) : null);
}

/* A/B players with one playhead: starting any of them pauses the others and takes up where the
   last one was (or where it was sought to), so the same bar is heard through each machine. */
function linkPlayers(root) {
  const audios = $$("audio", root);
  let head = 0;
  audios.forEach((a) => {
    a.addEventListener("play", () => {
      audios.forEach((b) => { if (b !== a && !b.paused) { head = b.currentTime; b.pause(); } });
      if (Math.abs(a.currentTime - head) > 0.05 && (!a.duration || head < a.duration)) a.currentTime = head;
    });
    a.addEventListener("timeupdate", () => { if (!a.paused) head = a.currentTime; });
    a.addEventListener("seeked", () => { head = a.currentTime; });
  });
  return root;
}

/* How much of the programme the needle measured, in words that add up (coasted over = the rest). */
function measured(t) {
  const lost = t.coasted_samples || 0, n = t.samples || 0;
  if (!n) return `${(100 * t.confidence).toFixed(1)} % tracked`;
  if (lost === 0) return "every sample of the programme measured, none coasted";
  const pct = (100 * lost / n);
  return `${(100 - pct).toFixed(pct < 0.1 ? 2 : 1)} % measured, ${lost.toLocaleString("en-GB")} samples (${pct.toFixed(pct < 0.1 ? 2 : 1)} %) coasted over blemishes`;
}

/* The colours of the tracking picture (work.py's _tracking_overlay). */
function trackLegend() {
  const key = (cls, text) => el("span", { class: "key" }, el("i", { class: `swatch ${cls}` }), text);
  return el("p", { class: "legend" }, key("sw-ok", "measured"), key("sw-lost", "coasted over (dust, scratch, lost track)"),
    key("sw-out", "lead-in, lead-out and locked groove (not played)"));
}

function clock(seconds) {
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

function facts(rows) {
  return el("dl", { class: "facts" }, rows.filter(Boolean).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

/* ---------------------------------------------------------------- renderers */

/* Put a job's settings back in its form, so a reloaded page shows what made the result. */
function restore(formSel, job, sourceKey, sourceTarget) {
  const p = job.params || {};
  for (const field of $$("input[name], select[name]", $(formSel))) {
    if (field.type === "radio" || !(field.name in p)) continue;
    const v = p[field.name];
    if (v === null || v === undefined) { field.value = ""; continue; }
    if (field.tagName === "SELECT") {
      const match = Array.from(field.options).find((o) => o.value !== "" && Math.abs(Number(o.value) - Number(v)) < 0.01) ||
                    Array.from(field.options).find((o) => o.value === String(v));
      if (match) field.value = match.value;
    } else field.value = v;
    field.dispatchEvent(new Event("input"));
  }
  if (sourceKey && p[sourceKey] && !state.sources[sourceTarget]) {
    state.sources[sourceTarget] = p[sourceKey];
    const drop = $(`.drop[data-target=${sourceTarget}]`);
    drop.classList.add("chosen");
    $(".drop-name", drop).textContent = p.song_name || "the song of this result";
  }
}

const RENDER = {
  cut(job) {
    const r = job.result, rec = r.record, id = job.id;
    const out = $("#cut-result");
    restore("#cut-form", job, "song", "cut-song");
    const xk = job.params && job.params.xray ? (job.params.xray.kind || (job.params.xray.upload ? "upload" : "")) : "";
    const radio = $(`input[name=xray-kind][value="${xk}"]`);
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    if (xk === "upload" && !state.sources["cut-xray"]) {
      state.sources["cut-xray"] = job.params.xray.upload;
      $("#cut-xray-drop").classList.add("chosen");
      $("#cut-xray-name").textContent = (rec.xray && rec.xray.file) || "your X-ray";
    }
    const downloads = el("div", { class: "downloads" },
      ...[["svg", "SVG", "laser cutter"], ["gcode", "G-code", "CNC drag knife"], ["dxf", "DXF", "CAD / CAM"],
          ["json", "JSON", "playback metadata"], ["png", "PNG", "full picture"], ["wav", "WAV", "clean preview"]]
        .map(([k, label, what]) => el("a", { class: `dl dl-${k}`, href: fileURL(id, rec.files[k].file, true), download: rec.files[k].file },
          el("b", { text: label }), el("span", { text: `${what} · ${bytes(rec.files[k].bytes)}` }))));
    const opt = r.optical || {};
    const optical = opt.error
      ? el("div", { class: "player unavailable" }, el("h3", { text: "Optical read-back" }), el("p", { class: "note", text: opt.error }),
          fixButtons("cut", opt.fixes))
      : player("Optical read-back", fileURL(id, opt.audio.file), `read from the picture at ${opt.tracking.dpi} dpi · ${measured(opt.tracking)}`,
        opt.audio.sonogram ? fileURL(id, opt.audio.sonogram) : null);
    const xr = rec.xray ? (rec.xray.kind ? `${rec.xray.kind} (built-in, seed ${rec.xray.seed})` : rec.xray.file) : "";
    put(out,
      el("div", { class: "record-head" }, el("h2", { text: `Bone record · ${r.song}` }),
         el("span", { class: "badge", text: `${rec.rpm.toFixed(rec.rpm % 1 ? 2 : 0)} rpm · ${rec.diameter_mm} mm` })),
      viewer(fileURL(id, rec.preview), fileURL(id, rec.picture), `${rec.picture_size[0]} × ${rec.picture_size[1]} px at ${rec.dpi} dpi — + goes onto the music band; scroll or double-click to zoom, drag to move`,
        null, rec.band ? [...rec.band.aim, rec.band.width] : null),
      linkPlayers(el("div", { class: "players" },
        r.source ? player("The song", fileURL(id, r.source.file), "the source, as it went into the lathe",
          fileURL(id, r.source.sonogram)) : null,
        r.preview.sonogram ? player("The groove as cut", fileURL(id, r.preview.file), "the clean preview: what the lathe put in the groove",
          fileURL(id, r.preview.sonogram)) : null,
        player("Gramophone", fileURL(id, r.gramophone.file), "steel needle, electric pickup, on fresh X-ray film",
          r.gramophone.sonogram ? fileURL(id, r.gramophone.sonogram) : null),
        optical)),
      el("p", { class: "muted ab", text: "One playhead: start any player and it takes up where the last one stopped." }),
      facts([["programme", `${rec.program_s} s in ${rec.programme_turns} programme turns`], ["curve", rec.eq],
             ["pitch", `${rec.pitch_um.min_um.toFixed(0)}–${rec.pitch_um.max_um.toFixed(0)} µm (${rec.pitch_um.law})`],
             ["level", rec.limiter], ["X-ray", xr],
             rec.band ? ["groove", `lead-in from ${rec.band.lead_in_mm} mm · music ${rec.band.programme_mm[0]}–${rec.band.programme_mm[1]} mm · lead-out to the locked groove at ${rec.band.locked_mm} mm`] : null,
             rec.cutting ? ["to cut it", `${rec.cutting.groove_m} m of groove: ${clock(rec.cutting.seconds)} at ${rec.cutting.feed_mm_min} mm/min (the G-code's feed)`] : null]),
      el("h3", { text: "Files to cut it for real" }), downloads,
      opt.tracking ? el("details", { class: "tracking" }, el("summary", { text: "Tracking report of the optical needle" }),
        viewer(fileURL(id, opt.tracking.file), null, "the track the optical needle followed", trackLegend())) : null);
  },

  play(job) {
    const r = job.result, id = job.id, t = r.tracking;
    restore("#play-form", job);
    if (job.params && job.params.cut_job) loadCutChoices().then(() => { $("#play-cut").value = job.params.cut_job; });
    put($("#play-result"),
      el("div", { class: "record-head" }, el("h2", { text: `Optical needle · ${job.title}` }),
         el("span", { class: `badge ${t.confidence > 0.9 ? "good" : t.confidence > 0.5 ? "fair" : "poor"}`, text: `${(100 * t.confidence).toFixed(1)} % tracked` })),
      t.confidence < 0.5 ? el("p", { class: "warning", text: `The needle measured only ${(100 * t.confidence).toFixed(1)} % of the groove and coasted over the rest, so what plays is mostly guesswork. The red line shows where it went.` }) : null,
      viewer(fileURL(id, t.file), fileURL(id, r.preview), "the track the needle followed", trackLegend()),
      el("div", { class: "players" }, player("What the groove holds", fileURL(id, r.audio.file), `${r.audio.seconds} s`,
        r.audio.sonogram ? fileURL(id, r.audio.sonogram) : null)),
      r.notes && r.notes.length ? el("ul", { class: "notes" }, r.notes.map((n) =>
        el("li", { class: n.startsWith("warning") ? "warning" : "", text: n.charAt(0).toUpperCase() + n.slice(1) + "." }))) : null,
      fixButtons("play", r.fixes),
      facts([["programme", `${t.seconds} s in ${t.programme_turns} programme turns`], ["measured", measured(t)],
             r.curve ? ["curve", r.curve] : null, ["resolution", `${t.dpi} dpi`],
             ["spiral centre", `${t.centre_px[0]}, ${t.centre_px[1]} px`]]));
  },

  dub(job) {
    const r = job.result, id = job.id;
    restore("#dub-form", job, "song", "dub-song");
    if (job.params && job.params.chain) {
      $("#dub-chain").replaceChildren();
      job.params.chain.forEach((name, i) => addDeck(name, (job.params.settings || [])[i] || {}));
      $("#dub-concert").checked = Boolean(job.params.concert);
    }
    const row = (label, sub, audio, spec, m, mc) => el("div", { class: "gen" },
      el("div", { class: "gen-head" }, el("span", { class: "gen-n", text: label }),
        el("span", {}, sub, m ? el("small", { class: "meter", text: `upper ${Math.round(m.upper_hz)} Hz · S/N ${m.snr_db.toFixed(1)} dB · W&F ${m.wow_flutter_pct.toFixed(2)} %` }) : null,
          mc ? el("small", { class: "machine", text: `${mc.tape} tape · speed ${mc.speed_error_pct >= 0 ? "+" : ""}${mc.speed_error_pct} % · azimuth ${mc.azimuth_arcmin}′ · bias ${mc.bias} · level ${mc.record_level_db} dB` }) : null)),
      el("audio", { controls: true, preload: "metadata", src: fileURL(id, audio.file) }),
      el("img", { class: "spec", src: fileURL(id, spec), alt: `waveform and spectrogram: ${sub}`, loading: "lazy" }));
    put($("#dub-result"),
      el("div", { class: "record-head" }, el("h2", { text: `Tape copies · ${job.title}` })),
      r.meter ? el("figure", { class: "meter-chart" }, el("img", { src: fileURL(id, r.meter), alt: "upper limit, S/N and W&F per generation" }),
        el("figcaption", { class: "muted", text: "each generation measured with izdat measure's meter: test tones and silence copied through the same machines" })) : null,
      el("p", { class: "muted ab", text: "One playhead: start any generation and it takes up where the last one stopped." }),
      linkPlayers(el("div", { class: "gens" }, row("0", "the source", r.source.audio, r.source.spectrogram),
        ...r.generations.map((g) => row(String(g.generation), g.title, g.audio, g.spectrogram, g.meter, g.machine)))));
  },

  underground(job) {
    const r = job.result, id = job.id, s = r.summary;
    restore("#ug-form", job);
    const chainBox = el("div", { class: "chain-box" }, el("p", { class: "muted", text: "Click a copy (or press Enter on it) to follow it back to the original and hear it." }));
    const tbody = el("tbody", {});
    const fill = (copies) => put(tbody, copies.map((c) => copyRow(job, c, chainBox)));
    fill(r.copies);
    const byMedium = Object.entries(s.copies_by_medium || {}).map(([k, v]) => `${k} ${Number(v).toLocaleString("en-GB")}`).join(" · ");
    put($("#ug-result"),
      el("div", { class: "record-head" }, el("h2", { text: `The underground · ${job.title}` })),
      el("div", { class: "numbers" },
        ...[["copies", s.copies], ["recordings", s.titles], ["deepest generation", s.max_generation], ["arrests", s.arrests]]
          .map(([k, v]) => el("div", {}, el("b", { text: Number(v).toLocaleString("en-GB") }), el("span", { text: k })))),
      el("p", { class: "muted", text: byMedium }),
      r.ensemble ? el("p", { class: "muted ens", text: spread(r.ensemble) }) : null,
      r.yearly ? timeline(r.yearly, r.events || [], r.ensemble) : null,
      el("div", { class: "plots" }, ...r.plots.map((p) => el("a", { href: fileURL(id, p), target: "_blank", rel: "noopener" },
        el("img", { src: fileURL(id, p), alt: p.replace(".png", "").replaceAll("_", " "), loading: "lazy" })))),
      finder(job, fill),
      el("div", { class: "copies" },
        el("div", { class: "table-wrap" }, el("table", { class: "copy-table" },
          el("thead", {}, el("tr", {}, ...["copy", "medium", "gen", "made", "city", "fate"].map((h) => el("th", { text: h })))),
          tbody)), chainBox));
  },

  listen(job) {
    const box = $("#ug-listen");
    if (!box) return;
    box.replaceChildren(player(`Copy #${job.result.copy} as it sounded`, fileURL(job.id, job.result.audio.file)),
      el("img", { class: "spec", src: fileURL(job.id, job.result.spectrogram), alt: "spectrogram of the copy" }));
  },
};

function copyRow(job, c, box) {
  const open = (e) => pickCopy(job, c, e.currentTarget, box);
  return el("tr", { tabindex: "0", "data-copy": c.id, onclick: open,
      onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(e); } } },
    el("td", { text: `#${c.id}`, title: c.name ? `${c.performer} — ${c.name}` : null }), el("td", { text: c.medium }),
    el("td", { text: String(c.generation) }), el("td", { text: c.made }), el("td", { text: c.city }),
    el("td", { text: String(c.fate).replace("_", " ") }));
}

/* The copy finder: izdat copies DB --deepest / --medium / --title / --city, in the page. */
function finder(job, fill) {
  const r = job.result;
  const medium = el("select", { name: "medium", "aria-label": "medium" }, el("option", { value: "", text: "any medium" }),
    ...Object.entries(r.summary.copies_by_medium || {}).filter(([, v]) => v > 0).map(([m]) => el("option", { value: m, text: m })));
  const city = el("select", { name: "city", "aria-label": "city" }, el("option", { value: "", text: "any city" }),
    ...(r.cities || []).map((c) => el("option", { value: c, text: c })));
  const title = el("input", { type: "text", name: "title", placeholder: "song or title id", "aria-label": "title" });
  const performer = el("input", { type: "text", name: "performer", placeholder: "performer", "aria-label": "performer" });
  const year = el("input", { type: "number", name: "year", placeholder: "year", min: "1946", max: "1991", "aria-label": "year made" });
  const deepest = el("input", { type: "checkbox", name: "deepest", checked: true });
  const said = el("p", { class: "muted find-said", role: "status" });
  const form = el("form", { class: "finder", "aria-label": "find copies" },
    medium, city, title, performer, year, el("label", { class: "check" }, deepest, " deepest first"),
    el("button", { type: "submit", class: "small-btn", text: "Find copies" }), said);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ limit: "50" });
    for (const f of [medium, city, title, performer, year]) if (f.value.trim()) q.set(f.name, f.value.trim());
    if (deepest.checked) q.set("deepest", "1");
    try {
      const rows = await api(`/api/jobs/${job.id}/copies?${q}`);
      fill(rows);
      said.classList.remove("error");
      said.textContent = rows.length ? `${rows.length} cop${rows.length === 1 ? "y" : "ies"} found${rows.length === 50 ? " (the first 50)" : ""}` : "no copy matches";
    } catch (err) { said.classList.add("error"); said.textContent = err.message; }
  });
  return form;
}

/* The run as something to watch: copies alive per medium each year, the state's dates marked, a
   year scrubber with Go and Step, and that year's figures beside it. */
const MEDIUM_COLOURS = { LP: "#8fd3e8", bone: "#ef6253", reel: "#e7b35a", cassette: "#6fd39a" };

/* An ensemble's headline figures: mean ± standard deviation over its runs, and the range. */
function spread(ens) {
  const stat = (xs) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
    return `${Math.round(mean).toLocaleString("en-GB")} ± ${Math.round(sd).toLocaleString("en-GB")} (${Math.min(...xs).toLocaleString("en-GB")}–${Math.max(...xs).toLocaleString("en-GB")})`;
  };
  return `Over ${ens.runs} runs (seeds ${ens.seeds[0]}–${ens.seeds[ens.seeds.length - 1]}): copies ${stat(ens.copies)} · deepest generation ${stat(ens.max_generation)} · arrests ${stat(ens.arrests)}. The figures above are the first run's; the bands below span every run.`;
}

function timeline(y, events, ens) {
  const NS = "http://www.w3.org/2000/svg", W = 640, H = 220, L = 44, R = 10, T = 12, B = 26;
  const svg = (tag, attrs = {}) => { const n = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  const years = y.years, n = years.length;
  const media = Object.keys(y.alive).filter((m) => y.alive[m].some((v) => v > 0));
  const top = Math.max(1, ...media.flatMap((m) => y.alive[m]), ...(ens ? media.flatMap((m) => ens.alive[m].hi) : []));
  const X = (i) => L + (W - L - R) * (n > 1 ? i / (n - 1) : 0.5);
  const Y = (v) => T + (H - T - B) * (1 - v / top);
  const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img", "aria-label": "copies alive per medium, year by year" });
  for (const frac of [0, 0.5, 1]) {
    g.append(svg("line", { x1: L, x2: W - R, y1: Y(top * frac), y2: Y(top * frac), stroke: "#22303a" }));
    const t = svg("text", { x: L - 6, y: Y(top * frac) + 4, "text-anchor": "end", fill: "#82969f", "font-size": "10" });
    t.textContent = Math.round(top * frac).toLocaleString("en-GB");
    g.append(t);
  }
  years.forEach((yr, i) => {
    if (yr % 10 !== 0 && i !== 0 && i !== n - 1) return;
    const t = svg("text", { x: X(i), y: H - 8, "text-anchor": "middle", fill: "#82969f", "font-size": "10" });
    t.textContent = String(yr);
    g.append(t);
  });
  for (const ev of events) {
    const i = years.indexOf(ev.year);
    if (i < 0) continue;
    g.append(svg("line", { x1: X(i), x2: X(i), y1: T, y2: H - B, stroke: "#d8463b", "stroke-dasharray": "3 3", "stroke-opacity": "0.8" }));
    const right = X(i) > 0.72 * W;                  // a late date's label reads leftwards, inside the chart
    const t = svg("text", { x: X(i) + (right ? -3 : 3), y: T + 10 + 11 * events.indexOf(ev), fill: "#ef6253", "font-size": "9.5",
      "text-anchor": right ? "end" : "start" });
    t.textContent = `${ev.year} ${ev.label}`;
    g.append(t);
  }
  for (const m of media) {
    const colour = MEDIUM_COLOURS[m] || "#dce8ec";
    if (ens) {          // the band from the lowest to the highest run, and the mean through it
      const a = ens.alive[m];
      const pts = a.hi.map((v, i) => `${X(i)},${Y(v)}`).concat(a.lo.map((v, i) => `${X(i)},${Y(v)}`).reverse());
      g.append(svg("polygon", { points: pts.join(" "), fill: colour, "fill-opacity": "0.18", stroke: "none", class: "band" }));
      g.append(svg("polyline", { points: a.mean.map((v, i) => `${X(i)},${Y(v)}`).join(" "), fill: "none",
        stroke: colour, "stroke-width": "2", class: "mean" }));
    } else {
      g.append(svg("polyline", { points: y.alive[m].map((v, i) => `${X(i)},${Y(v)}`).join(" "), fill: "none",
        stroke: colour, "stroke-width": "2" }));
    }
  }
  const cursor = svg("line", { y1: T, y2: H - B, stroke: "#dce8ec", "stroke-width": "1.5" });
  g.append(cursor);
  const legend = el("p", { class: "legend" }, media.map((m) => el("span", { class: "key" },
    el("i", { class: `swatch sw-${m.toLowerCase()}` }), m)), el("span", { class: "key" }, el("i", { class: "swatch sw-event" }), "the state's dates"));
  const scrub = el("input", { type: "range", min: "0", max: String(n - 1), step: "1", value: String(n - 1), "aria-label": "year" });
  const readout = el("p", { class: "readout", role: "status", "aria-live": "polite" });
  const show = () => {
    const i = Number(scrub.value);
    cursor.setAttribute("x1", X(i)); cursor.setAttribute("x2", X(i));
    const alive = media.map((m) => ens ? `${m} ${Math.round(ens.alive[m].mean[i]).toLocaleString("en-GB")} (${ens.alive[m].lo[i]}–${ens.alive[m].hi[i]})`
      : `${m} ${y.alive[m][i].toLocaleString("en-GB")}`).join(", ");
    const made = media.map((m) => y.made[m][i]).reduce((a, b) => a + b, 0);
    const marks = events.filter((e) => e.year === years[i]).map((e) => ` · ${e.label}`).join("");
    readout.textContent = `${years[i]}: alive ${alive} · ${ens ? "the first run: " : ""}${made.toLocaleString("en-GB")} made · ${y.confiscated[i]} confiscated · ${y.arrests[i]} arrests${marks}`;
  };
  let timer = null;
  const go = el("button", { type: "button", class: "small-btn", text: "Go" });
  const stop = () => { clearInterval(timer); timer = null; go.textContent = "Go"; };
  go.addEventListener("click", () => {
    if (timer) { stop(); return; }
    if (Number(scrub.value) >= n - 1) scrub.value = "0";
    go.textContent = "Pause";
    timer = setInterval(() => { if (Number(scrub.value) >= n - 1) { stop(); return; } scrub.value = String(Number(scrub.value) + 1); show(); }, 250);
    show();
  });
  const step = el("button", { type: "button", class: "small-btn", text: "Step", onclick: () => { stop(); scrub.value = String(Number(scrub.value) >= n - 1 ? 0 : Number(scrub.value) + 1); show(); } });
  scrub.addEventListener("input", () => { stop(); show(); });
  show();
  return el("figure", { class: "watch" }, el("h3", { text: ens ? `Year by year: copies alive, mean and range of ${ens.runs} runs` : "Year by year: copies alive" }), g, legend,
    el("div", { class: "scrubber" }, go, step, scrub), readout);
}

async function pickCopy(job, copy, row, box) {
  $$(".copy-table tr.sel").forEach((r) => r.classList.remove("sel"));
  row.classList.add("sel");
  box.replaceChildren(el("p", { class: "muted", text: `following copy #${copy.id}…` }));
  let chain;
  try { chain = await api(`/api/jobs/${job.id}/copies/${copy.id}`); } catch (err) { box.replaceChildren(el("p", { class: "error", text: err.message })); return; }
  const steps = el("ol", { class: "lineage" }, chain.map((c) => el("li", {},
    el("b", { text: `${c.medium}` }), ` gen ${c.generation}, ${c.made}, ${c.city}`,
    el("span", { class: "muted", text: c.maker === null ? " — arrived from abroad / the state" : ` — made by person ${c.maker}${c.deck ? " on " + c.deck : c.lathe ? " on " + c.lathe : ""}, ${c.price_rub.toFixed(2)} rub` }))));
  const listen = el("div", { id: "ug-listen" });
  const song = state.sources["dub-song"] || "example";
  const hear = el("button", { type: "button", class: "go small", text: "Hear this copy",
    title: song === "example" ? "the example song stands for the recording" : "the song chosen on the Dub page stands for the recording" });
  if (!state.info.listen) {
    hear.disabled = true;
    listen.append(el("p", { class: "note", text: "Listening to a copy needs izdat.underground.listen, which this copy of izdat does not have yet." }));
  } else {
    hear.addEventListener("click", async () => {
      hear.disabled = true;
      listen.replaceChildren(el("div", { class: "job", id: "listen-job" }));
      try {
        const j = await postJSON("/api/jobs/listen", { run: job.id, copy: copy.id, song });
        const poll = async () => {
          const s = await api(`/api/jobs/${j.id}`);
          if (s.state === "done") { RENDER.listen(s); hear.disabled = false; return; }
          if (s.state !== "queued" && s.state !== "running") { listen.replaceChildren(el("p", { class: "error", text: s.error || s.state })); hear.disabled = false; return; }
          const fill = el("div", { class: "fill" });
          fill.style.width = `${Math.round(100 * s.progress)}%`;        // CSSOM: allowed by the CSP, a style attribute is not
          listen.replaceChildren(el("div", { class: "bar" }, fill), el("p", { class: "msg", text: s.message || s.state }));
          setTimeout(poll, 400);
        };
        poll();
      } catch (err) { toast(err.message); hear.disabled = false; }
    });
  }
  const tree = el("div", { class: "tree-box" });
  box.replaceChildren(el("h3", { text: `Copy #${copy.id}: ${chain.length} hand(s) back to the original` }), steps, hear, listen, tree);
  try { showTree(tree, await api(`/api/jobs/${job.id}/copies/${copy.id}/tree`), copy.id); }
  catch (err) { tree.replaceChildren(el("p", { class: "error", text: err.message })); }
}

/* The lineage as a tree: from the original down to the chosen copy, each copy's other children
   beside the path, with the size of the family under each. */
function showTree(box, tree, chosen) {
  const onPath = new Set(tree.path);
  const below = (n) => (n ? ` · ${n.toLocaleString("en-GB")} below` : "");
  const trunk = tree.nodes.map((node) => {
    const side = node.children.filter((c) => !onPath.has(c.id));
    return el("li", { class: node.id === chosen ? "on chosen" : "on" },
      el("span", { class: "node", text: `#${node.id} ${node.medium} · gen ${node.generation} · ${node.made} · ${node.city}${below(node.descendants)}` }),
      side.length || node.more ? el("div", { class: "branches" }, el("span", { class: "muted", text: "also copied into: " }),
        side.map((c) => el("span", { class: "branch", title: `${c.made}, ${c.city}`, text: `#${c.id} ${c.medium}${below(c.descendants)}` })),
        node.more ? el("span", { class: "branch more", text: `+ ${node.more} more` }) : null) : null);
  });
  box.replaceChildren(el("h3", { text: "The family tree, from the original down to this copy" }), el("ol", { class: "tree" }, trunk));
}

/* ---------------------------------------------------------------- shelf */

async function loadShelf() {
  const jobs = await api("/api/jobs");
  const body = $("#shelf-rows");
  const page = { cut: "cut", play: "play", dub: "dub", underground: "underground", listen: "underground" };
  // results with the same title are numbered in the order they were made
  const seen = {}, count = {};
  jobs.forEach((j) => { count[j.title] = (count[j.title] || 0) + 1; });
  const nth = {};
  [...jobs].reverse().forEach((j) => { seen[j.title] = (seen[j.title] || 0) + 1; nth[j.id] = seen[j.title]; });
  const open = (j) => { localStorage.setItem(`izdat.job.${page[j.kind]}`, j.id); location.hash = page[j.kind]; watch(page[j.kind], j.id); };
  put(body, jobs.map((j) => el("tr", {},
    el("td", { class: "thumb" }, j.thumb ? el("img", { src: fileURL(j.id, j.thumb), alt: `${j.kind} result`, loading: "lazy", width: "64", height: "64" })
      : el("span", { class: "no-thumb", text: j.kind.slice(0, 1).toUpperCase() })),
    el("td", { class: "what" },
      el("div", { class: "what-head" }, el("span", { class: `kind kind-${j.kind}`, text: j.kind }),
        el("b", { text: (j.title || "") + (count[j.title] > 1 ? ` (${nth[j.id]})` : "") })),
      j.summary ? el("div", { class: "summary muted", text: j.summary }) : null,
      el("div", { class: "made muted", text: `${new Date(j.created * 1000).toLocaleString()}${j.bytes ? " · " + bytes(j.bytes) : ""}` })),
    el("td", { class: `st st-${j.state}`, text: j.state === "failed" ? `failed: ${j.error}` : j.state }),
    el("td", { class: "actions" },
      j.state === "done" && j.kind !== "listen" ? el("button", { type: "button", text: "open", "aria-label": `open ${j.title}`, onclick: () => open(j) }) : null,
      el("button", { type: "button", class: "danger", text: "delete", "aria-label": `delete ${j.title}`, onclick: async () => {
        if (!confirm("Delete this result and its files?")) return;
        await api(`/api/jobs/${j.id}`, { method: "DELETE" }); loadShelf(); } })))));
  $("#shelf-empty").classList.toggle("hidden", jobs.length > 0);
}

async function loadCutChoices() {
  const jobs = await api("/api/jobs");
  const sel = $("#play-cut");
  const keep = sel.value;
  sel.replaceChildren(el("option", { value: "", text: "— none —" }),
    ...jobs.filter((j) => j.kind === "cut" && j.state === "done").map((j) => el("option", { value: j.id, text: j.title })));
  if (keep) sel.value = keep;
}

/* ---------------------------------------------------------------- setup */

function deckSelect(value) {
  const sel = el("select", { "aria-label": "deck" }, state.info.decks.map((d) =>
    el("option", { value: d.name, text: `${d.title} · ${d.kind} ${d.speed_cm_s} cm/s` })));
  sel.value = value;
  return sel;
}

/* The knobs of a machine, as TapeDeck names them: label, unit, step. */
const KNOBS = { speed_error_pct: ["speed error", "%", 0.05], azimuth_arcmin: ["azimuth", "arc min", 0.5],
                bias: ["bias", "× the tape's optimum", 0.05], record_level_db: ["record level", "dB", 0.5] };

/* The serial number the studio gives the machine of this row when its knobs are left alone: the
   seed plus the count of other models before it (work.py's chain_decks). */
function seedFor(li) {
  const rows = $$("#dub-chain li"), names = [];
  for (const r of rows) { const n = $("select.deck", r).value; if (r === li) break; if (!names.includes(n)) names.push(n); }
  const name = $("select.deck", li).value;
  const at = names.indexOf(name);
  return Number($("#dub-form [name=seed]").value || 0) + (at >= 0 ? at : names.length);
}

/* One copy in the chain: its deck and, behind the gear, that machine's tape and knobs (a plugin's
   panel): each starts at what the machine's serial number draws (greyed), and may be set. */
function addDeck(value, knobs = {}) {
  const sel = deckSelect(value);
  sel.classList.add("deck");
  const panel = el("div", { class: "knobs hidden" });
  const toggle = el("button", { type: "button", class: "gear", title: "this machine's tape and settings", "aria-expanded": "false", text: "⚙" });
  const li = el("li", {}, sel, toggle,
    el("button", { type: "button", class: "x", title: "remove this copy", text: "×", onclick: () => { if ($$("#dub-chain li").length > 1) li.remove(); } }),
    panel);
  let filled = false;
  const fill = async () => {
    const deck = state.info.decks.find((d) => d.name === sel.value);
    let drawn = {};
    try { drawn = await api(`/api/decks/${encodeURIComponent(sel.value)}?seed=${seedFor(li)}`); } catch (err) { drawn = {}; }
    const tape = el("select", { "data-knob": "tape", "aria-label": "tape" }, deck.tapes.map((t) =>
      el("option", { value: t, text: t === deck.usual_tape ? `${t} (its usual tape)` : t })));
    tape.value = knobs.tape || drawn.tape || deck.usual_tape;
    put(panel, el("label", {}, "tape", tape),
      Object.entries(KNOBS).map(([k, [label, unit, step]]) => {
        const [lo, hi] = state.info.deck_limits[k];
        const input = el("input", { type: "number", "data-knob": k, min: String(lo), max: String(hi), step: String(step),
          placeholder: drawn[k] === undefined ? "" : String(drawn[k]), "aria-label": label });
        if (knobs[k] !== undefined) input.value = String(knobs[k]);
        return el("label", {}, `${label} `, el("span", { class: "unit", text: unit }), input);
      }),
      el("p", { class: "note", text: `greyed: as machine no. ${seedFor(li)} of this model draws it or leaves the factory; type a value to set it` }));
    filled = true;
  };
  toggle.addEventListener("click", () => {
    const open = panel.classList.toggle("hidden") === false;
    toggle.setAttribute("aria-expanded", String(open));
    if (open && !filled) fill();
  });
  sel.addEventListener("change", () => { knobs = {}; filled = false; if (!panel.classList.contains("hidden")) fill(); else put(panel); });
  if (Object.keys(knobs).length) { panel.classList.remove("hidden"); toggle.setAttribute("aria-expanded", "true"); }
  $("#dub-chain").append(li);
  if (Object.keys(knobs).length) fill();
}

/* The chain as the API takes it: a name, or {deck, tape, knobs…} where something was set. */
function chainSettings() {
  return $$("#dub-chain li").map((li) => {
    const name = $("select.deck", li).value;
    const deck = state.info.decks.find((d) => d.name === name);
    const knobs = {};
    for (const f of $$("[data-knob]", li)) {
      if (f.dataset.knob === "tape") { if (f.value && f.value !== deck.usual_tape) knobs.tape = f.value; }
      else if (f.value !== "") knobs[f.dataset.knob] = Number(f.value);
    }
    return Object.keys(knobs).length ? { deck: name, ...knobs } : name;
  });
}

async function main() {
  state.info = await api("/api/info");
  $("#version").textContent = state.info.version;
  $("#shelf-dir").textContent = state.info.data_dir;
  for (const id of ["#cut-eq"]) {
    $(id).replaceChildren(...state.info.equalisations.map((e) => el("option", { value: e, text: e })));
    $(id).value = "blumlein";
  }
  $("#play-eq").append(...state.info.equalisations.map((e) => el("option", { value: e, text: e })));
  const xrays = $("#cut-xrays");
  const kinds = [["", "by seed"], ...state.info.xray_kinds.map((k) => [k, k]), ["upload", "your own…"]];
  kinds.forEach(([value, label], i) => xrays.append(el("label", { class: "chip" },
    el("input", { type: "radio", name: "xray-kind", value, checked: i === 0 }), el("span", { text: label }))));
  xrays.addEventListener("change", () => $("#cut-xray-drop").classList.toggle("hidden", $("input[name=xray-kind]:checked").value !== "upload"));
  $$(".drop").forEach(setupDrop);
  const dpi = $("#cut-form select[name=dpi]");
  const dpiNote = () => {
    const rb = state.info.read_back, note = $("#cut-dpi-note");
    if (!rb || Number(dpi.value) >= rb.dpi) { note.classList.add("hidden"); return; }
    const better = Array.from(dpi.options).map((o) => Number(o.value)).find((v) => v >= rb.dpi);
    put(note, `At ${dpi.value} dpi the optical needle may not read this record back: its closest turns, ${rb.closest_turns_um} µm apart, need ${rb.dpi} dpi or more. The files to cut are the same at any dpi.`,
      better ? el("button", { type: "button", class: "fix", text: `Use ${better} dpi`, onclick: () => { dpi.value = String(better); dpiNote(); } }) : null);
    note.classList.remove("hidden");
  };
  dpi.addEventListener("change", dpiNote); dpi.addEventListener("input", dpiNote); dpiNote();
  for (const name of ["rpm", "diameter_mm", "trim_s"]) {
    const field = $(`#cut-form [name=${name}]`);
    field.addEventListener("input", sideNote); field.addEventListener("change", sideNote);
  }
  $(".drop[data-target=cut-song]").addEventListener("uploaded", sideNote);
  sideNote();
  if (!state.info.example_song) { $("#cut-example").remove(); $("#dub-example").remove(); }
  else {
    $("#cut-example").addEventListener("click", () => useExample("cut-song"));
    $("#dub-example").addEventListener("click", () => useExample("dub-song"));
  }
  ["elektronika-302", "mayak-203", "vesna"].forEach(addDeck);
  $("#dub-add").addEventListener("click", () => addDeck($("#dub-chain li:last-child select.deck").value));
  $$("#ug-form input[type=range]").forEach((r) => {
    const out = $(`#ug-${r.name}-out`);
    const show = () => {
      out.textContent = r.name === "pass_probability" ? Number(r.value).toFixed(2)
        : r.name === "people" ? Number(r.value).toLocaleString("en-GB") : String(Number(r.value));   // a year is 1958, not 1,958
    };
    r.addEventListener("input", show); show();
  });

  $("#cut-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const song = state.sources["cut-song"];
    if (!song) { toast("Choose a song first (or the example song)."); return; }
    const v = formValues(e.target);
    const kind = $("input[name=xray-kind]:checked").value;
    let xray = null;
    if (kind === "upload") {
      if (!state.sources["cut-xray"]) { toast("Upload your X-ray first, or pick a built-in one."); return; }
      xray = { upload: state.sources["cut-xray"] };
    } else if (kind) xray = { kind };
    startJob("cut", "cut", { ...v, song, xray });
  });
  $("#play-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    const cut = $("#play-cut").value;
    if (cut) startJob("play", "play", { ...v, cut_job: cut });
    else if (state.sources["play-picture"]) startJob("play", "play", { ...v, picture: state.sources["play-picture"], meta: state.sources["play-meta"] || null });
    else toast("Choose a record you cut here, or upload a picture.");
  });
  $("#dub-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const song = state.sources["dub-song"];
    if (!song) { toast("Choose a song first (or the example song)."); return; }
    startJob("dub", "dub", { ...formValues(e.target), song, chain: chainSettings(), concert: $("#dub-concert").checked });
  });
  $("#ug-form").addEventListener("submit", (e) => { e.preventDefault(); startJob("underground", "underground", formValues(e.target)); });

  window.addEventListener("hashchange", showPage);
  showPage();
  for (const page of ["cut", "play", "dub", "underground"]) {
    const id = localStorage.getItem(`izdat.job.${page}`);
    if (id) watch(page, id);
  }
}

main().catch((err) => toast(`The studio cannot start: ${err.message}`));
