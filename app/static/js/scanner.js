// The pickup scanner: handheld scanners and typed codes (a focused input in a form), camera
// scanning (native BarcodeDetector, else the barcode-detector polyfill served from our origin),
// and an offline queue that never shows a green result before the server confirms it.

const root = document.getElementById("scanner");
const T = JSON.parse(document.getElementById("scan-i18n").textContent);
const pointId = Number(root.dataset.point);
const lang = root.dataset.lang;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const form = document.getElementById("scan-form");
const input = document.getElementById("code");
const result = document.getElementById("result");
const QUEUE_KEY = `kitrun.scanqueue.${pointId}`;
const REPEAT_MS = 3000;
const NATIVE = "BarcodeDetector" in window;
let pending = null; // a "check ID" answer waiting for its confirm: { code, nonce }

// ---------------------------------------------------------------- helpers

function nonce() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function nameOf(obj) {
  if (!obj) return "";
  return (lang === "zh-CN" ? obj.name_zh : obj.name_en) || obj.name_en || obj.name_zh || "";
}

// The district's time zone and the server's form (2026-05-01 09:30): a live scan and a photo
// scan (rendered by the server) show the same time the same way.
let timeFormat;
function fmtTime(iso) {
  if (!iso) return "";
  if (!timeFormat) {
    const opts = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23" };
    try {
      timeFormat = new Intl.DateTimeFormat("en-CA", { ...opts, timeZone: root.dataset.tz });
    } catch { timeFormat = new Intl.DateTimeFormat("en-CA", opts); }
  }
  const p = Object.fromEntries(timeFormat.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function handedOverText(h) {
  return T.handed_over.replace("{when}", fmtTime(h.at)).replace("{where}", nameOf(h.location))
    .replace("{who}", h.by || "");
}

let audio;
// Created ahead (first tap or key, or while the first code's answer is on its way): a new
// AudioContext costs 80-160 ms on a phone, which the first verdict would otherwise wait for.
function prepareAudio() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  } catch (e) { /* no audio: the colour says it */ }
}

function beep(ok) {
  try {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = ok ? 1320 : 220;
    osc.type = ok ? "sine" : "square";
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + (ok ? 0.15 : 0.4));
  } catch (e) { /* no audio: the colour says it */ }
  if (navigator.vibrate) navigator.vibrate(ok ? 80 : [120, 80, 120]);
}

function refocus() {
  if (document.activeElement !== input) input.focus({ preventScroll: true });
}

// ---------------------------------------------------------------- showing answers

function show(answer, scan) {
  const checking = answer.result === "check_id";
  pending = checking && scan ? { code: scan.code, nonce: scan.nonce } : null;
  result.className = "scan-result " + (checking ? "check" : answer.ok ? "go" : "stop");
  result.replaceChildren(el("p", "verdict", checking ? T.check : answer.ok ? T.go : T.stop));
  result.dataset.result = answer.result || "error";
  result.append(el("p", "reason", answer.message || T.server_error));
  const c = answer.claim;
  const who = answer.identity;
  if (who) {
    // The full name and birth year, to check against an ID card (never kept in the log).
    const zh = el("p", "student full-name", who.name_zh);
    zh.lang = "zh-CN";
    const latin = el("p", "student full-name", who.name_latin);
    latin.lang = "en";
    result.append(...[zh, latin].filter((e) => e.textContent));
    if (who.roster_name) result.append(el("p", "detail", T.roster.replace("{name}", who.roster_name)));
    if (who.birth_year) result.append(el("p", "born", T.born.replace("{year}", who.birth_year)));
  } else if (c) {
    result.append(el("p", "student", [c.name_zh, c.name_latin].filter(Boolean).join(" · ")));
  }
  if (c) {
    result.append(el("p", "school", nameOf(c.school)));
    if (c.kit) {
      const ul = el("ul", "kit");
      for (const part of c.kit.contents) ul.append(el("li", "", `${part.quantity} × ${nameOf(part)}`));
      result.append(ul);
    }
  }
  if (answer.handed_over) result.append(el("p", "detail", handedOverText(answer.handed_over)));
  if (answer.kit_location && answer.kit_location.address) {
    result.append(el("p", "detail", answer.kit_location.address));
  }
  if (pending) {
    const button = el("button", "primary confirm", T.confirm);
    button.type = "button";
    button.id = "confirm-handover";
    button.addEventListener("click", confirmHandOver);
    result.append(button);
  }
  beep(Boolean(answer.ok || checking));
}

function showQueued(code) {
  result.className = "scan-result queued";
  result.dataset.result = "queued";
  result.replaceChildren(el("p", "verdict", T.queued), el("p", "reason", T.queued_reason),
    el("p", "detail", code));
  beep(false);
}

// ---------------------------------------------------------------- sending and the queue

class NetworkError extends Error {}

async function send(scan) {
  let res;
  try {
    res = await fetch("/api/v1/scans", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf,
        "Accept-Language": lang },
      body: JSON.stringify(scan),
    });
  } catch (e) {
    throw new NetworkError(String(e));
  }
  if (res.status >= 500) throw new NetworkError(`HTTP ${res.status}`);
  const body = await res.json().catch(() => ({}));
  if (body.result) return body;
  const message = body.error ? body.error.message : T.server_error;
  return { result: "error", ok: false, message };
}

function loadQueue() {
  try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch { return []; }
}

function saveQueue(q) {
  localStorage.setItem(QUEUE_KEY, JSON.stringify(q));
  renderQueue(q);
}

function renderQueue(q) {
  const box = document.getElementById("queue");
  const list = document.getElementById("queue-list");
  box.hidden = q.length === 0;
  list.replaceChildren(...q.map((s) => el("li", "queued-item", `${fmtTime(s.scanned_at)} · ${s.code}`)));
}

function confirmedLine(scan, answer) {
  const box = document.getElementById("confirmed");
  box.hidden = false;
  let text = `${fmtTime(scan.scanned_at)} · ${answer.ok ? T.go : T.stop}: ${answer.message || ""}`;
  if (answer.conflict) text = `${T.conflict} — ${text}`;
  const li = el("li", answer.ok ? "ok" : "bad", text);
  document.getElementById("confirmed-list").prepend(li);
}

let flushing = false;
async function flush() {
  if (flushing) return;
  let q = loadQueue();
  if (!q.length) return;
  flushing = true;
  try {
    while (q.length) {
      const scan = q[0];
      let answer;
      try {
        answer = await send({ ...scan, queued: true });
      } catch (e) {
        break; // still offline: keep the rest for later
      }
      q = loadQueue().filter((s) => s.nonce !== scan.nonce);
      saveQueue(q);
      confirmedLine(scan, answer);
      show(answer, scan);
    }
  } finally {
    flushing = false;
    refreshCounters();
  }
}

async function refreshCounters() {
  try {
    const res = await fetch(`/api/v1/pickup-points/${pointId}/counters`,
      { credentials: "same-origin" });
    if (!res.ok) return;
    const c = await res.json();
    document.getElementById("c-today").textContent = c.handed_out_today;
    document.getElementById("c-left").textContent = c.still_to_come;
  } catch { /* offline: keep the last figures */ }
}

let busy = false;
async function submit(code, again) {
  code = code.trim();
  if (!code || busy) return;
  busy = true;
  input.value = "";
  // A confirm is the checked scan again (same code and nonce) with `confirm`: its retries
  // and the offline queue keep the nonce's exactly-once answer.
  const scan = again
    ? { code, point_id: pointId, nonce: again.nonce, scanned_at: new Date().toISOString(), confirm: true }
    : { code, point_id: pointId, nonce: nonce(), scanned_at: new Date().toISOString() };
  result.className = "scan-result idle";
  result.replaceChildren(el("p", "verdict", T.sending));
  try {
    if (!navigator.onLine) throw new NetworkError("offline");
    const answer = send(scan);
    prepareAudio(); // (once) while the answer is on its way, for its beep
    show(await answer, scan);
    refreshCounters();
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    saveQueue([...loadQueue(), scan]);
    showQueued(code);
  } finally {
    busy = false;
    refocus();
  }
}

function confirmHandOver() {
  if (pending) submit(pending.code, pending);
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit(input.value);
});
input.addEventListener("blur", () => {
  // Keep the field focused for handheld scanners, unless the volunteer moved to another control.
  setTimeout(() => {
    const a = document.activeElement;
    if (!a || a === document.body) refocus();
  }, 150);
});
input.addEventListener("pointerdown", () => input.setAttribute("inputmode", "text"));
// (not on the camera's button: the camera opens first; the sound is prepared once a code is
// sent, while its answer is on its way)
document.addEventListener("pointerdown", (ev) => {
  if (ev.target.closest && ev.target.closest("#camera-toggle")) return;
  prepareAudio();
}, { capture: true });
document.addEventListener("keydown", prepareAudio, { once: true, capture: true });
window.addEventListener("online", flush);
setInterval(() => { if (navigator.onLine) flush(); }, 5000);
renderQueue(loadQueue());
flush();
refocus();

// ---------------------------------------------------------------- camera

const camera = document.getElementById("camera");
const video = document.getElementById("video");
const toggle = document.getElementById("camera-toggle");
const camStatus = document.getElementById("camera-status");
let stream = null;
let scanning = false;
let lastCode = "";
let lastAt = 0;

// The wasm decoder, only where the browser has no native BarcodeDetector: fetched as soon as
// the page runs, so the first tap on "Start camera" finds it ready or on its way. Its modules
// and the wasm come in parallel (not one after the other), and the wasm is compiled while it
// streams in; all from versioned URLs, cached for a year.
let polyfill = null;
function loadPolyfill() {
  if (!polyfill) {
    polyfill = (async () => {
      if (!root.dataset.vendor) throw new Error("no decoder installed (npm ci)");
      const ponyfill = root.dataset.ponyfill;
      const [mod, wasm] = await Promise.all([
        import(ponyfill),
        WebAssembly.compileStreaming(fetch(root.dataset.wasm, { credentials: "same-origin" })),
        import(ponyfill.replace(/[^/]+$/, "zxing-exported.js")), // what ponyfill.js imports
      ]);
      await mod.prepareZXingModule({
        overrides: {
          instantiateWasm: (imports, done) => {
            WebAssembly.instantiate(wasm, imports).then((instance) => done(instance, wasm));
            return {};
          },
        },
        fireImmediately: true,
      });
      warmUp(mod.BarcodeDetector);
      return mod.BarcodeDetector;
    })();
    polyfill.catch(() => { polyfill = null; }); // a later start tries again
  }
  return polyfill;
}

// A first decode compiles the decoder's functions (lazily, on first call) and sets up its
// memory: done once on a small QR drawn here, at load, so the first frame from the camera
// decodes at full speed. (QR version 1 of "kitrun", one row of 21 modules per number.)
const WARM_QR = [0x1fcf7f, 0x104a41, 0x17485d, 0x175e5d, 0x17575d, 0x104541, 0x1fd57f, 0xf00,
  0x18e918, 0x68150, 0x8ee9e, 0x6241f, 0xf6c42, 0x1fcd, 0x1fd166, 0x105f8c, 0x17451a, 0x174514,
  0x174c5b, 0x10582c, 0x1fda8a];
function warmUp(Detector) {
  const scale = 4, quiet = 4, n = WARM_QR.length, side = (n + 2 * quiet) * scale;
  const img = new ImageData(side, side);
  img.data.fill(255);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!((WARM_QR[y] >> (n - 1 - x)) & 1)) continue;
      for (let dy = 0; dy < scale; dy++) {
        const row = ((y + quiet) * scale + dy) * side;
        for (let dx = 0; dx < scale; dx++) {
          const i = 4 * (row + (x + quiet) * scale + dx);
          img.data[i] = img.data[i + 1] = img.data[i + 2] = 0;
        }
      }
    }
  }
  setTimeout(() => new Detector({ formats: ["qr_code"] }).detect(img).catch(() => {}), 0);
}

async function detectorClass() {
  if (NATIVE) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) return window.BarcodeDetector;
    } catch { /* fall through to the polyfill */ }
  }
  return loadPolyfill();
}

// Frames are checked back to back, each on the next video frame (not on a fixed interval).
function nextFrame(fn) {
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(fn);
  else requestAnimationFrame(fn);
}

async function check(detector) {
  if (!scanning) return;
  if (!busy && video.readyState >= 2) {
    // the first frame is in: the camera is on (bench/scanner.py times from here)
    if (root.dataset.camera !== "on") root.dataset.camera = "on";
    try {
      const codes = await detector.detect(video);
      const text = codes.length ? codes[0].rawValue : "";
      const now = Date.now();
      const held = text === lastCode && now - lastAt < REPEAT_MS;
      if (text && !held && !(pending && text === pending.code)) {
        lastCode = text;
        lastAt = now;
        await submit(text);
      } else if (text) {
        lastAt = now;
      }
    } catch (e) {
      camStatus.textContent = String(e.message || e);
    }
  }
  if (scanning) nextFrame(() => check(detector));
}

function openCamera() {
  const camera = navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" } }, audio: false,
  });
  camera.catch(() => {}); // (reported once awaited)
  return camera;
}

// The camera is opened on the button's pointerdown, ahead of its click (a finger rests 50-100
// ms on the screen); a press that does not become a click (a scroll) closes it again.
let opening = null;
function openEarly() {
  if (stream || opening) return;
  const camera = (opening = openCamera());
  setTimeout(() => {
    if (opening !== camera) return;
    opening = null;
    camera.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
  }, 1500);
}

async function startCamera() {
  try {
    // the camera starts while the decoder gets ready, not after
    const camera = opening || openCamera();
    opening = null;
    camStatus.textContent = T.camera_loading;
    let Detector;
    try {
      Detector = await detectorClass();
    } catch (e) {
      camera.then((s) => s.getTracks().forEach((t) => t.stop()), () => {});
      throw e;
    }
    const detector = new Detector({ formats: ["qr_code"] });
    stream = await camera;
    video.srcObject = stream;
    video.hidden = false;
    const playing = video.play();
    scanning = true;
    nextFrame(() => check(detector)); // the first frame, not the one after "playing"
    await playing;
    input.setAttribute("inputmode", "none"); // no soft keyboard over the camera view
    toggle.textContent = T.camera_stop;
    camStatus.textContent = T.camera_on;
    root.dataset.camera = "on";
  } catch (e) {
    stopCamera();
    camStatus.textContent = `${T.camera_denied} (${e.message || e})`;
  }
}

function stopCamera() {
  scanning = false;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  video.hidden = true;
  root.dataset.camera = "off";
  toggle.textContent = T.camera_start;
  input.removeAttribute("inputmode");
}

if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  camera.hidden = false;
  toggle.addEventListener("pointerdown", openEarly);
  toggle.addEventListener("click", () => {
    if (stream) {
      stopCamera();
      localStorage.setItem("kitrun.camera", "off");
    } else {
      localStorage.setItem("kitrun.camera", "on");
      startCamera();
    }
    refocus();
  });
  if (localStorage.getItem("kitrun.camera") === "on") startCamera();
  // The page itself is in by now (a module runs once it is parsed, its stylesheet loaded).
  if (!NATIVE && root.dataset.vendor) loadPolyfill().catch(() => {});
  // the browser's media service up before the first tap (no prompt, no camera light)
  navigator.mediaDevices.enumerateDevices().catch(() => {});
}
