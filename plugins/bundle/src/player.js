// Plays a KidLisp piece offline: the `kidlisp` job type's renderer, compiled to WebAssembly
// (renderer.wasm), runs the piece (piece.bin) frame by frame and each frame's RGBA pixels are
// put on the canvas, at the piece's frame rate. Pointer events on the canvas reach the piece
// (touch, draw, lift, in art pixels) before its next frame. window.kilnPlayer tells which frame is
// shown and can pause and resume.
(async () => {
  const settings = KILN_PLAYER;
  const canvas = document.getElementById("kiln-canvas");
  const player = { frame: -1, error: null, paused: false, pause() {}, play() {} };
  window.kilnPlayer = player;
  const fail = (e) => {
    player.error = String(e && e.message ? e.message : e);
    const p = document.createElement("pre");
    p.id = "kiln-bundle-error";
    p.style.cssText = "margin:1em;color:#fff;white-space:pre-wrap;font:16px/1.4 system-ui,sans-serif";
    p.textContent = "Bundle error: " + player.error;
    document.body.replaceChildren(p);
  };
  // A file the loader unpacked, else the page's own base64 data block (a plain bundle).
  const file = (name) => {
    if (window.kilnFiles && window.kilnFiles[name]) return window.kilnFiles[name];
    const block = document.getElementById("kiln-file-" + name);
    if (!block) throw new Error("the bundle has no " + name);
    return Uint8Array.from(atob(block.textContent.trim()), (c) => c.charCodeAt(0));
  };
  try {
    const { instance } = await WebAssembly.instantiate(file("renderer.wasm"), {});
    const x = instance.exports;
    // Every call into the module may grow its memory, which detaches the old buffer: views are
    // made after the call, from the buffer as it is then.
    const message = () => {
      const at = x.kiln_message();
      const length = x.kiln_message_len();
      return new TextDecoder().decode(new Uint8Array(x.memory.buffer, at, length));
    };
    const piece = file("piece.bin");
    const input = x.kiln_input(piece.length);
    new Uint8Array(x.memory.buffer, input, piece.length).set(piece);
    if (x.kiln_start() !== 0) throw new Error(message());
    const width = x.kiln_width();
    const height = x.kiln_height();
    canvas.width = width;
    canvas.height = height;
    if (settings.density) {
      canvas.style.width = width * settings.density + "px";
      canvas.style.height = height * settings.density + "px";
    }
    // Pointer events, in art pixels, queued in the module for the next frame.
    let last = null;
    const at = (e) => {
      const box = canvas.getBoundingClientRect();
      return [
        Math.floor(((e.clientX - box.left) * width) / box.width),
        Math.floor(((e.clientY - box.top) * height) / box.height),
      ];
    };
    canvas.style.touchAction = "none";
    canvas.addEventListener("pointerdown", (e) => {
      const [px, py] = at(e);
      canvas.setPointerCapture(e.pointerId);
      last = [px, py];
      x.kiln_event(0, px, py, 0, 0);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!last) return;
      const [px, py] = at(e);
      x.kiln_event(1, px, py, px - last[0], py - last[1]);
      last = [px, py];
    });
    const lift = (e) => {
      if (!last) return;
      const [px, py] = at(e);
      last = null;
      x.kiln_event(2, px, py, 0, 0);
    };
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
    const g = canvas.getContext("2d");
    const image = g.createImageData(width, height);
    const draw = () => {
      const at = x.kiln_frame();
      if (!at) throw new Error(message());
      image.data.set(new Uint8Array(x.memory.buffer, at, width * height * 4));
      g.putImageData(image, 0, 0);
      player.frame += 1;
    };
    // Frame n is due n / fps seconds after play started; a slow machine drops behind by at most
    // four frames a tick, then plays on from where it is (rather than racing to catch up).
    let start = null;
    let base = 0;
    const tick = (now) => {
      if (player.paused || player.error) return;
      try {
        if (start === null) {
          start = now;
          base = player.frame + 1;
        }
        const due = base + Math.floor(((now - start) * settings.fps) / 1000);
        for (let n = 0; player.frame < due && n < 4; n++) draw();
        if (player.frame < due) {
          start = now;
          base = player.frame + 1;
        }
        requestAnimationFrame(tick);
      } catch (e) {
        fail(e);
      }
    };
    player.pause = () => {
      player.paused = true;
    };
    player.play = () => {
      if (!player.paused) return;
      player.paused = false;
      start = null;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  } catch (e) {
    fail(e);
  }
})();
