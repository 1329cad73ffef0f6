// Kiln's virtual clock, installed before any page script when the job asks for virtual time.
// Time stands still at 0 until the host calls `__kilnClock.advanceTo(ms)`; then timers due by
// then run in order (the clock reads each one's due time while it runs), animation-frame
// callbacks run with the new time (and the promises they return are awaited: p5 2.x draws in an
// async callback), and every CSS animation, CSS transition and Web Animation is paused and
// seeked to the new time. Nothing depends on how long a frame takes to paint.
(() => {
  const native = {
    now: performance.now.bind(performance),
    Date: Date,
    setTimeout: setTimeout.bind(window),
    rAF: requestAnimationFrame.bind(window),
  };
  const startWall = native.Date.now();
  let now = 0;

  // Errors the clock's own steps caught, with the virtual time each was thrown at. DevTools'
  // exception event for an error can reach the host after the step that threw has answered,
  // so the host reads this to name the frame that threw and to miss no error at the end.
  const thrown = [];
  function describe(error) {
    try {
      return error && error.stack ? String(error.stack) : String(error);
    } catch (_) {
      return "an error that cannot be turned into text";
    }
  }
  function caught(error) {
    thrown.push(Object.freeze({ at: now, message: describe(error) }));
    reportError(error);
  }

  // Timers: an id-ordered list scanned for the earliest due; pages rarely hold more than a few.
  const timers = new Map();
  let nextTimerId = 1;
  let nesting = 0;
  function addTimer(callback, delay, args, repeat) {
    const id = nextTimerId++;
    delay = Number(delay) || 0;
    if (delay < 0) delay = 0;
    // Browsers clamp deeply nested timers to 4 ms; without the clamp a timer that re-arms itself
    // with 0 ms would hold virtual time still forever.
    if (nesting > 4 && delay < 4) delay = 4;
    timers.set(id, { id, due: now + delay, delay, callback, args, repeat, nesting: nesting + 1 });
    return id;
  }
  function clearTimer(id) { timers.delete(Number(id)); }
  function nextDue(limit) {
    let best = null;
    for (const timer of timers.values()) {
      if (timer.due <= limit && (best === null || timer.due < best.due || (timer.due === best.due && timer.id < best.id))) best = timer;
    }
    return best;
  }
  function callTimer(timer) {
    if (timer.repeat) timer.due += Math.max(timer.delay, 1);
    else timers.delete(timer.id);
    const saved = nesting;
    nesting = timer.nesting;
    try {
      if (typeof timer.callback === "function") timer.callback.apply(window, timer.args);
      else (0, eval)(String(timer.callback));
    } catch (error) {
      caught(error);
    } finally {
      nesting = saved;
    }
  }

  // Animation frames: callbacks registered during a frame run in the next one, as in browsers.
  let frameCallbacks = new Map();
  let nextFrameId = 1;

  // Web Animations (CSS animations and transitions included): each is paused when first seen
  // and from then on placed by the clock. It was created during the step before it was first
  // seen, so that step's time is its start.
  const adopted = new WeakMap();
  let adoptedAt = 0;
  function placeAnimations() {
    for (const animation of document.getAnimations()) {
      if (animation.playState === "idle") continue;
      let start = adopted.get(animation);
      if (start === undefined) {
        start = adoptedAt;
        adopted.set(animation, start);
      }
      const rate = animation.playbackRate || 1;
      animation.pause();
      animation.currentTime = Math.max(0, (now - start) * rate);
    }
    adoptedAt = now;
  }

  // Lets promise callbacks and message events queued by page code run before the next step.
  const channel = new MessageChannel();
  const yielded = [];
  channel.port1.onmessage = () => { const resolve = yielded.shift(); if (resolve) resolve(); };
  const yieldToPage = () => new Promise((resolve) => { yielded.push(resolve); channel.port2.postMessage(0); });

  let busy = false;
  async function advanceTo(target) {
    if (busy) throw new Error("the clock is already advancing");
    busy = true;
    try {
      target = Math.max(now, Number(target));
      let timer;
      while ((timer = nextDue(target)) !== null) {
        now = Math.max(now, timer.due);
        callTimer(timer);
        await yieldToPage();
      }
      now = target;
      const callbacks = frameCallbacks;
      frameCallbacks = new Map();
      const pending = [];
      for (const callback of callbacks.values()) {
        try {
          const result = callback(now);
          if (result && typeof result.then === "function") pending.push(Promise.resolve(result).catch(caught));
        } catch (error) {
          caught(error);
        }
      }
      await Promise.all(pending);
      await yieldToPage();
      placeAnimations();
      return now;
    } finally {
      busy = false;
    }
  }

  // A function rather than a subclass, so `Date()` without `new` still answers a string.
  function VirtualDate(...args) {
    if (!new.target) return new native.Date(startWall + now).toString();
    return args.length === 0 ? new native.Date(startWall + now) : new native.Date(...args);
  }
  VirtualDate.prototype = native.Date.prototype;
  VirtualDate.now = () => startWall + now;
  VirtualDate.parse = native.Date.parse;
  VirtualDate.UTC = native.Date.UTC;
  const plain = (name, fn) => Object.defineProperty(fn, "name", { value: name });

  window.Date = VirtualDate;
  window.setTimeout = plain("setTimeout", (callback, delay, ...args) => addTimer(callback, delay, args, false));
  window.setInterval = plain("setInterval", (callback, delay, ...args) => addTimer(callback, delay, args, true));
  window.clearTimeout = plain("clearTimeout", clearTimer);
  window.clearInterval = plain("clearInterval", clearTimer);
  window.requestAnimationFrame = plain("requestAnimationFrame", (callback) => {
    const id = nextFrameId++;
    frameCallbacks.set(id, callback);
    return id;
  });
  window.cancelAnimationFrame = plain("cancelAnimationFrame", (id) => { frameCallbacks.delete(Number(id)); });
  Object.defineProperty(Performance.prototype, "now", { value: plain("now", () => now), configurable: true, writable: true });
  if (document.timeline) {
    Object.defineProperty(document.timeline, "currentTime", { get: () => now, configurable: true });
  }

  Object.defineProperty(window, "__kilnClock", {
    value: Object.freeze({
      advanceTo,
      now: () => now,
      thrownCount: () => thrown.length,
      thrownAt: (index) => thrown[index] || null,
      native,
    }),
    enumerable: false,
  });
})();
