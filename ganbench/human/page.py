"""The study page: plain HTML, CSS and JavaScript served as they are (no build step, nothing from the network).

The page asks the server for a session (or resumes the one in the link or in localStorage), tells the evaluator
that half of the images are real (the paper's footnote 2), shows one image at a time with "real" / "fake"
buttons (keys R and F), a progress bar, feedback during the tutorial only (the qualification and the study have
none), a screen between the parts, and a thank-you screen with the evaluator's own result. It measures the time
from the image being drawn to the answer and sends it with the answer; it never learns an image's truth outside
the tutorial.

In a HYPE_time study each study image comes with the exposure the server's staircase asks for. The page measures
the display's frame interval once (the median of 30 requestAnimationFrame intervals), decodes the image while it is
hidden, shows a fixation cross, then the image from one animation frame to the first frame at which the target is
reached (within half a frame), then a backward mask of random noise (a new pattern every 30 ms), and only then the
buttons. The exposure it measured (between the frame callbacks that showed and hid the image) and the frame
interval go with the answer; the server keeps an answer whose exposure missed its target by more than one frame,
but drops it from the staircase and the score.
"""

HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Real or fake? A ganbench study</title>
<link rel="stylesheet" href="/study.css">
</head>
<body>
<main>
  <h1>Real or fake?</h1>
  <div id="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0">
    <div id="bar"></div>
  </div>
  <p id="counter">&nbsp;</p>

  <section id="intro" hidden>
    <p>You will see images one at a time. <b id="disclosure">Half of the images are real</b>: they come from a
      dataset. The other half were made by a computer program (a generative model). For each image, say whether
      you think it is <b>real</b> or <b>fake</b>. Take as long as you need.</p>
    <p id="tutorial-note">First, a short tutorial of <span id="tutorial-size">10</span> images: after each of its
      images you are told whether you were right.<span id="tutorial-gate"> To go on to the study you need to get
      <span class="pass-rate">65%</span> of the tutorial's real images and <span class="pass-rate">65%</span> of
      its fake images right.</span></p>
    <p id="qualification-note">Before the study, a qualification test of <span id="qualification-size">100</span>
      images, half of them real, without feedback: to take part in the study you need to get
      <span class="pass-rate">65%</span> of its real images and <span class="pass-rate">65%</span> of its fake
      images right.</p>
    <p>The study itself has <span id="study-size">100</span> images, half of them real, with no feedback until the
      end.</p>
    <p id="time-note" hidden>In the study, each image appears only briefly (between a tenth of a second and one
      second), after a cross in the middle of the frame, and is then covered by noise. Keep your eyes on the cross.
      Then say whether the image was real or fake: take as long as you need to answer.</p>
    <p>Answer with the buttons or the keys <kbd>R</kbd> (real) and <kbd>F</kbd> (fake).</p>
    <button id="start" type="button">Start</button>
  </section>

  <section id="trial" hidden>
    <div class="frame"><img id="image" alt="the image to judge" width="280" height="280">
      <canvas id="mask" width="56" height="56" hidden></canvas><div id="fixation" hidden>+</div></div>
    <div class="buttons">
      <button id="real" type="button" disabled>Real <kbd>R</kbd></button>
      <button id="fake" type="button" disabled>Fake <kbd>F</kbd></button>
    </div>
    <p id="feedback" aria-live="polite">&nbsp;</p>
    <button id="next" type="button" hidden>Next <kbd>Enter</kbd></button>
  </section>

  <section id="between" hidden>
    <p id="between-text"></p>
    <button id="begin" type="button">Begin <kbd>Enter</kbd></button>
  </section>

  <section id="done" hidden>
    <h2>Thank you!</h2>
    <p id="own-score"></p>
    <p>Your answers are saved. You can close this page.</p>
  </section>

  <section id="failed" hidden>
    <h2>Thank you for your time</h2>
    <p id="gate-score"></p>
  </section>

  <p id="error" role="alert" hidden></p>
  <p id="resume" hidden>To continue later, keep this link: <a id="resume-link" href="/">this study</a></p>
</main>
<script src="/study.js"></script>
</body>
</html>
"""

CSS = """
[hidden] { display: none !important; }
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f4; color: #222; }
main { max-width: 560px; margin: 2em auto; padding: 1.5em 2em; background: #fff; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { margin-top: 0; font-size: 1.6em; }
#progress { height: 10px; background: #e2e2e2; border-radius: 5px; overflow: hidden; }
#bar { height: 100%; width: 0; background: #3a7bd5; transition: width .15s; }
#counter { color: #555; font-size: .95em; }
.frame { position: relative; width: 282px; height: 282px; margin: 1em auto; background: #000; }
#image, #mask, #fixation { position: absolute; left: 0; top: 0; width: 280px; height: 280px; border: 1px solid #ccc; }
#image, #mask { image-rendering: pixelated; background: #000; }
#fixation { background: #000; color: #fff; font-size: 48px; line-height: 280px; text-align: center; }
.buttons { display: flex; gap: 1em; justify-content: center; }
button { font-size: 1.1em; padding: .6em 1.6em; border-radius: 6px; border: 1px solid #888; background: #fafafa;
         cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
#real { border-color: #2e8b57; }
#fake { border-color: #b22222; }
kbd { font-size: .8em; border: 1px solid #aaa; border-radius: 3px; padding: 0 .3em; background: #eee; }
#feedback { text-align: center; min-height: 1.4em; font-weight: bold; }
#feedback.right { color: #2e8b57; }
#feedback.wrong { color: #b22222; }
#next, #begin, #start { display: block; margin: 1em auto 0; }
#error { color: #b22222; }
#resume { color: #666; font-size: .85em; word-break: break-all; }
"""

JS = r"""
"use strict";
(function () {
  const KEY = "ganbench-hype-evaluator";
  const $ = (id) => document.getElementById(id);
  const sections = ["intro", "trial", "between", "done", "failed"];
  let state = null;      // the server's view of this evaluator
  let shownAt = null;    // when the current image was drawn (performance.now()), null while none is shown
  let busy = false;      // an answer is on its way
  let waitNext = false;  // tutorial feedback shown, waiting for "next"
  let timedTrial = false;  // the image on screen is a HYPE_time one: shown for its exposure, then masked
  let frameMs = null;    // the display's frame interval, measured before the first timed image
  let shown = null;      // the exposure measured for the timed image just answered: {exposure_ms, frame_ms}

  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  async function measureFrame() {
    const ts = [await frame()];
    while (ts.length < 31) ts.push(await frame());
    const d = ts.slice(1).map((t, i) => t - ts[i]).sort((a, b) => a - b);
    return d[d.length >> 1];
  }

  function noise() {
    const c = $("mask"), ctx = c.getContext("2d"), im = ctx.createImageData(c.width, c.height);
    for (let i = 0; i < im.data.length; i += 4) {
      const v = Math.floor(Math.random() * 256);
      im.data[i] = im.data[i + 1] = im.data[i + 2] = v; im.data[i + 3] = 255;
    }
    ctx.putImageData(im, 0, 0);
  }

  // A timed image: fixation, then the image for nx.exposure_ms on animation frames, then the mask, then the buttons.
  async function timed(nx) {
    const img = $("image");
    img.style.visibility = "hidden";
    if (frameMs === null) frameMs = await measureFrame();
    img.src = nx.url;
    try { await img.decode(); } catch (e) { /* drawn anyway once loaded */ }
    if (state.next !== nx) return;
    const half = frameMs / 2;
    $("fixation").hidden = false;
    let t = await frame();
    const f0 = t;
    while (t - f0 < nx.fixation_ms - half) t = await frame();
    $("fixation").hidden = true;
    img.style.visibility = "visible";  // painted after this frame's callbacks: on screen from t
    const t0 = t;
    t = await frame();
    while (t - t0 < nx.exposure_ms - half) t = await frame();
    img.style.visibility = "hidden";   // gone from the frame after t
    noise();
    $("mask").hidden = false;
    shown = { exposure_ms: Math.round((t - t0) * 100) / 100, frame_ms: Math.round(frameMs * 1000) / 1000 };
    const t1 = t;
    let last = t;
    while (t - t1 < nx.mask_ms - half) {
      t = await frame();
      if (t - last >= 30 - half) { noise(); last = t; }
    }
    $("mask").hidden = true;
    $("feedback").textContent = "Real or fake?";
    shownAt = performance.now();
    setButtons(true);
  }

  function show(id) { sections.forEach((s) => { $(s).hidden = s !== id; }); }

  function error(msg) { $("error").textContent = msg; $("error").hidden = !msg; }

  async function api(method, path, body) {
    const opts = { method: method, headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (!r.ok) { const e = new Error(data.error || r.statusText); e.status = r.status; throw e; }
    return data;
  }

  function pct(x) { return (100 * x).toFixed(0) + "%"; }

  // where each part starts in the sequence: tutorial, then qualification, then study
  function start(s, phase) {
    return phase === "qualification" ? s.tutorial : (phase === "study" ? s.tutorial + s.qualification : 0);
  }

  function progress(s) {
    let done, total, label;
    if (s.phase === "tutorial" || s.phase === "qualification") {
      done = s.position - start(s, s.phase); total = s[s.phase];
      label = (s.phase === "tutorial" ? "Tutorial" : "Qualification") + ": image " + Math.min(done + 1, total) +
        " of " + total;
    } else {
      done = Math.max(0, s.position - start(s, "study")); total = s.images;
      label = s.phase === "study" ? "Image " + Math.min(done + 1, total) + " of " + total : "";
      if (s.phase === "done") { done = total; label = "Finished"; }
    }
    const p = total ? (100 * done) / total : 0;
    $("bar").style.width = p + "%";
    $("progress").setAttribute("aria-valuenow", String(Math.round(p)));
    $("counter").textContent = label || "\u00a0";
  }

  function remember(s) {
    localStorage.setItem(KEY, s.evaluator);
    const link = location.origin + "/?evaluator=" + encodeURIComponent(s.evaluator);
    $("resume-link").href = link;
    $("resume-link").textContent = link;
    $("resume").hidden = s.phase === "done" || s.phase === "failed";
  }

  function render(s, fromAnswer) {
    state = s;
    remember(s);
    progress(s);
    if (s.phase === "done") {
      const r = s.result;
      $("own-score").textContent = "You judged " + r.right + " of " + r.answers + " images right. You took " +
        r.fakes_judged_real + " of " + r.fakes + " generated images for real, and " + r.reals_judged_fake +
        " of " + r.reals + " real images for generated: your error rate is " + pct(r.error_rate) +
        " (a coin toss would score 50%).";
      show("done");
      return;
    }
    if (s.phase === "failed") {
      const q = s.qualification > 0;
      const t = q ? s.qualification_result : s.tutorial_result;
      $("gate-score").textContent = "In the " + (q ? "qualification" : "tutorial") + " you got " +
        (t.reals - t.reals_judged_fake) + " of " + t.reals + " real images and " + (t.fakes - t.fakes_judged_real) +
        " of " + t.fakes + " generated images right; the study needs " + pct(s.pass_rate) +
        " of each, so it ends here.";
      show("failed");
      return;
    }
    const at = start(s, s.phase);
    const began = sessionStorage.getItem("began-" + s.evaluator + "-" + s.phase);
    if (at > 0 && s.position === at && (fromAnswer || !began)) {
      $("between-text").textContent = s.phase === "qualification"
        ? "End of the tutorial. Now the qualification test: " + s.qualification +
          " images, half of them real, with no feedback."
        : "You passed the " + (s.qualification > 0 ? "qualification" : "tutorial") + ". Now the study: " +
          s.images + " images, half of them real, with no feedback until the end." + (s.variant === "time"
          ? " Each is shown briefly after a cross, then covered by noise: keep your eyes on the cross." : "");
      show("between");
      return;
    }
    next();
  }

  function next() {
    waitNext = false;
    $("next").hidden = true;
    $("feedback").textContent = "\u00a0";
    $("feedback").className = "";
    show("trial");
    setButtons(false);
    shownAt = null;
    shown = null;
    const img = $("image");
    img.dataset.id = state.next.id;
    timedTrial = state.next.exposure_ms !== undefined;
    if (timedTrial) { timed(state.next); return; }
    img.style.visibility = "visible";
    img.src = state.next.url;
  }

  function setButtons(on) { $("real").disabled = !on; $("fake").disabled = !on; }

  $("image").addEventListener("load", () => {
    if (timedTrial) return;
    shownAt = performance.now();
    setButtons(true);
  });

  async function answer(value) {
    if (busy || waitNext || shownAt === null || !state || !state.next) return;
    busy = true;
    setButtons(false);
    const took = performance.now() - shownAt;
    shownAt = null;
    const body = { evaluator: state.evaluator, image: state.next.id, answer: value, time_ms: Math.round(took) };
    if (timedTrial && shown) { body.exposure_ms = shown.exposure_ms; body.frame_ms = shown.frame_ms; }
    try {
      const s = await api("POST", "/api/answer", body);
      error("");
      if (s.feedback) {
        const fb = $("feedback");
        fb.textContent = (s.feedback.correct ? "Right: " : "Wrong: ") + "this image is " + s.feedback.truth + ".";
        fb.className = s.feedback.correct ? "right" : "wrong";
        state = s;
        progress(s);
        waitNext = true;
        $("next").hidden = false;
        $("next").focus();
      } else {
        render(s, true);
      }
    } catch (e) {
      error("Your answer was not saved (" + e.message + "). Reloading where you are.");
      frameMs = null;  // a refused timing is measured again (the tab may have been throttled)
      await resume(state.evaluator);
    } finally {
      busy = false;
    }
  }

  function afterFeedback() {
    if (!waitNext) return;
    waitNext = false;
    render(state, true);
  }

  function begin() {
    sessionStorage.setItem("began-" + state.evaluator + "-" + state.phase, "1");
    next();
  }

  async function resume(token) {
    try {
      render(await api("GET", "/api/session?evaluator=" + encodeURIComponent(token)), false);
      return true;
    } catch (e) {
      if (e.status === 403) { localStorage.removeItem(KEY); return false; }
      error("The study server cannot be reached (" + e.message + "). Reload the page to try again.");
      return true;
    }
  }

  $("start").addEventListener("click", async () => {
    $("start").disabled = true;
    try { render(await api("POST", "/api/session", {}), false); error(""); }
    catch (e) { error("Could not start (" + e.message + ")."); $("start").disabled = false; }
  });
  $("real").addEventListener("click", () => answer("real"));
  $("fake").addEventListener("click", () => answer("fake"));
  $("next").addEventListener("click", afterFeedback);
  $("begin").addEventListener("click", begin);

  document.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const k = ev.key.toLowerCase();
    if (!$("trial").hidden && (k === "r" || k === "f")) { ev.preventDefault(); answer(k === "r" ? "real" : "fake"); }
    else if (k === "enter" || k === " ") {
      if (!$("between").hidden) { ev.preventDefault(); begin(); }
      else if (waitNext) { ev.preventDefault(); afterFeedback(); }
    }
  });

  (async function init() {
    try {
      const info = await api("GET", "/api/study");
      document.querySelectorAll(".pass-rate").forEach((e) => { e.textContent = pct(info.pass_rate); });
      $("study-size").textContent = String(info.images);
      $("tutorial-size").textContent = String(info.tutorial);
      $("qualification-size").textContent = String(info.qualification);
      $("tutorial-note").hidden = info.tutorial === 0;
      $("tutorial-gate").hidden = info.qualification > 0;
      $("qualification-note").hidden = info.qualification === 0;
      $("time-note").hidden = info.variant !== "time";
    } catch (e) { /* the defaults in the page stand */ }
    const token = new URL(location.href).searchParams.get("evaluator") || localStorage.getItem(KEY);
    if (token && await resume(token)) return;
    show("intro");
  })();
})();
"""
