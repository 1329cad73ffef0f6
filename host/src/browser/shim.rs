//! The script installed in every job's page before any page script runs.

/// Builds the init script for one job (`job_nonce` unique per job): the tab's sessionStorage and
/// `window.name` emptied for the job's first document; a seeded `Math.random` when the job has a
/// seed; refusals for the
/// peer-to-peer APIs that could leave the machine without a request Kiln intercepts; and no
/// cookie store or service workers, the two ways state could outlive a job across its site (page
/// cookies are also switched off per page, see `slot.rs`).
///
/// Each document logs at most `console_lines` console calls; later calls are dropped in the page,
/// so a logging loop costs nothing, and one warning says so.
///
/// With `virtual_time` the page also gets Kiln's virtual clock (`clock.js`), held at 0 until the
/// host advances it.
pub(super) fn init_script(
    seed: Option<u64>,
    job_nonce: &str,
    virtual_time: bool,
    console_lines: u32,
) -> String {
    let seed = match seed {
        Some(seed) => format!("{{ lo: {}, hi: {} }}", seed & 0xffff_ffff, seed >> 32),
        None => "null".to_string(),
    };
    let shim = SHIM
        .replace("__KILN_SEED__", &seed)
        .replace("__KILN_JOB__", job_nonce)
        .replace("__KILN_CONSOLE_LINES__", &console_lines.to_string());
    if virtual_time {
        format!("{shim}\n{CLOCK}")
    } else {
        shim
    }
}

/// The virtual clock: timers, animation frames, `performance.now`, `Date` and Web Animations.
const CLOCK: &str = include_str!("clock.js");

const SHIM: &str = r#"(() => {
  // sessionStorage and window.name belong to the tab and outlive documents: the job's first
  // top-level document empties them (window.name then marks the job, so the job's own later
  // documents keep what they stored).
  if (window === window.top && window.name !== "kiln:__KILN_JOB__") {
    try { sessionStorage.clear(); } catch (e) {}
    window.name = "kiln:__KILN_JOB__";
  }
  const seed = __KILN_SEED__;
  if (seed !== null) {
    // sfc32, seeded from the job's 64-bit seed: fast, good enough for art, identical everywhere.
    let a = seed.lo >>> 0, b = seed.hi >>> 0, c = 0x9e3779b9, d = 0x85ebca6b;
    const next = () => {
      a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
      let t = (a + b) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      d = (d + 1) | 0;
      t = (t + d) | 0;
      c = (c + t) | 0;
      return (t >>> 0) / 4294967296;
    };
    for (let i = 0; i < 12; i++) next();
    Math.random = function random() { return next(); };
  }
  // WebGL canvases keep their drawing buffer, so a capture between frames is never blank. Each
  // canvas's context is remembered, so a capture can tell a lost context from a blank drawing.
  const nativeGetContext = HTMLCanvasElement.prototype.getContext;
  const contexts = new WeakMap();
  HTMLCanvasElement.prototype.getContext = function getContext(type, attributes) {
    if (type === "webgl" || type === "webgl2" || type === "experimental-webgl") {
      attributes = Object.assign({}, attributes, { preserveDrawingBuffer: true });
    }
    const context = nativeGetContext.call(this, type, attributes);
    if (context) contexts.set(this, context);
    return context;
  };
  Object.defineProperty(window, "__kilnContextOf", { value: (canvas) => contexts.get(canvas), enumerable: false });
  // A logging loop must not flood the DevTools connection (each call is an event Kiln receives):
  // after the cap, console calls do nothing.
  const consoleCap = __KILN_CONSOLE_LINES__;
  let consoleCalls = 0;
  const nativeWarn = console.warn;
  for (const name of ["log", "info", "warn", "error", "debug", "trace", "dir", "dirxml", "table", "count", "assert", "group", "groupCollapsed", "timeLog"]) {
    const native = console[name];
    if (typeof native !== "function") continue;
    console[name] = function (...args) {
      consoleCalls++;
      if (consoleCalls <= consoleCap) return native.apply(console, args);
      if (consoleCalls === consoleCap + 1) {
        nativeWarn.call(console, `kiln: console output stopped after ${consoleCap} calls (jobs.max_console_lines)`);
      }
    };
  }
  // Printing would show a dialog nobody answers: the piece's print() is logged and ignored.
  // (p5's global mode puts its own print, a console.log, in its place.)
  window.print = function print() {
    console.warn("kiln: the piece called print(); pages cannot print, so it was ignored");
  };
  if ("cookieStore" in globalThis) {
    Object.defineProperty(globalThis, "cookieStore", { value: undefined, writable: false, configurable: false });
  }
  if (globalThis.navigator && navigator.serviceWorker) {
    const refuse = () => Promise.reject(new DOMException("service workers are not available: Kiln pages are offline", "SecurityError"));
    Object.defineProperty(navigator.serviceWorker, "register", { value: refuse, writable: false, configurable: false });
  }
  for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "WebTransport"]) {
    if (name in globalThis) {
      const refused = function () {
        throw new DOMException(`${name} is not available: Kiln pages are offline`, "SecurityError");
      };
      Object.defineProperty(globalThis, name, { value: refused, writable: false, configurable: false });
    }
  }
})();"#;

#[cfg(test)]
mod tests {
    use super::init_script;

    #[test]
    fn seed_is_split_into_two_words() {
        let script = init_script(Some((7u64 << 32) | 5), "n1", false, 200);
        assert!(script.contains("{ lo: 5, hi: 7 }"));
        assert!(script.contains("const consoleCap = 200;"));
        assert!(init_script(None, "n1", false, 200).contains("const seed = null;"));
        assert!(!init_script(None, "n1", false, 200).contains("__kilnClock"));
        assert!(init_script(None, "n1", true, 200).contains("__kilnClock"));
    }
}
