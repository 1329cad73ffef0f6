// Kiln's p5 harness: seeds the sketch, counts frames and tells the host when the capture is ready.
// Loaded after p5 and before the sketch; works with p5 1.x (registerMethod) and 2.x (registerAddon).
(() => {
  const script = document.currentScript;
  const wantFrames = Number(script.dataset.frames) || 1;
  const seed = script.dataset.seed === "" ? null : Number(script.dataset.seed);
  const state = (window.__kilnP5 = { done: false, frames: 0, scriptErrors: 0 });
  // Counted in the page, when they happen: the host hears of an uncaught error through DevTools,
  // which on a busy machine can be after the plugin has looked (see page.rs).
  window.addEventListener("error", (event) => {
    if (event instanceof ErrorEvent) state.scriptErrors++;
  });

  function mainCanvas(p) {
    return (p._renderer && (p._renderer.elt || p._renderer.canvas)) || p.canvas || null;
  }

  function finish(p) {
    if (state.done) return;
    p.noLoop();
    const canvas = mainCanvas(p);
    if (canvas) canvas.setAttribute("data-kiln-main", "");
    state.done = true;
  }

  // Pixel density needs no call: the page's device scale factor is the job's pixelDensity, and p5
  // defaults to window.devicePixelRatio.
  function beforeSetup(p) {
    if (seed !== null) {
      p.randomSeed(seed);
      p.noiseSeed(seed);
    }
  }

  function afterSetup(p) {
    const draws = typeof (p._isGlobal ? window.draw : p.draw) === "function";
    if (!draws) finish(p);
  }

  function afterDraw(p) {
    state.frames = p.frameCount;
    if (p.frameCount >= wantFrames || !p.isLooping()) finish(p);
  }

  if (typeof p5.registerAddon === "function") {
    p5.registerAddon((_p5, _fn, lifecycles) => {
      lifecycles.presetup = function () { beforeSetup(this); };
      lifecycles.postsetup = function () { afterSetup(this); };
      lifecycles.postdraw = function () { afterDraw(this); };
    });
  } else {
    p5.prototype.registerMethod("beforeSetup", function () { beforeSetup(this); });
    p5.prototype.registerMethod("afterSetup", function () { afterSetup(this); });
    p5.prototype.registerMethod("post", function () { afterDraw(this); });
  }
})();
