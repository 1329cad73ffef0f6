// Kiln's p5 harness for recordings: seeds the sketch, sets its frame rate to the recording's, and
// says when setup is done. Loaded after p5 and before the sketch; works with p5 1.x
// (registerMethod) and 2.x (registerAddon). The page runs on Kiln's virtual clock.
(() => {
  const script = document.currentScript;
  const fps = Number(script.dataset.fps) || 30;
  const seed = script.dataset.seed === "" ? null : Number(script.dataset.seed);
  const state = (window.__kilnVideo = { ready: false });

  function mainCanvas(p) {
    return (p._renderer && (p._renderer.elt || p._renderer.canvas)) || p.canvas || null;
  }

  // Before the sketch's own setup, so a frameRate() call of its own wins.
  function beforeSetup(p) {
    if (seed !== null) {
      p.randomSeed(seed);
      p.noiseSeed(seed);
    }
    p.frameRate(fps);
  }

  function afterSetup(p) {
    // p5 1.x calls hooks of a global-mode sketch on `window`; its timing fields live on the
    // instance (`p5.instance`).
    if (!(p instanceof p5) && p5.instance) p = p5.instance;
    const canvas = mainCanvas(p);
    if (canvas) canvas.setAttribute("data-kiln-main", "");
    // p5 draws when a frame interval has passed since setup; the clock stands at 0 then, so
    // without this the first recorded frame would be setup's, before any draw. With it, frame 1
    // of the recording is draw's frameCount 1. (p5 2.x and 1.x keep the time under these names.)
    if ("_lastTargetFrameTime" in p) p._lastTargetFrameTime = -1e9;
    if ("_lastFrameTime" in p) p._lastFrameTime = -1e9;
    if ("_lastRealFrameTime" in p) p._lastRealFrameTime = -1e9;
    state.ready = true;
  }

  if (typeof p5.registerAddon === "function") {
    p5.registerAddon((_p5, _fn, lifecycles) => {
      lifecycles.presetup = function () { beforeSetup(this); };
      lifecycles.postsetup = function () { afterSetup(this); };
    });
  } else {
    p5.prototype.registerMethod("beforeSetup", function () { beforeSetup(this); });
    p5.prototype.registerMethod("afterSetup", function () { afterSetup(this); });
  }
})();
