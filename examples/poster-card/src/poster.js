// Fits the title and subtitle to the card, then tells the plugin the page is ready to capture.
(() => {
  const card = document.querySelector(".card");
  const texts = [document.querySelector("h1"), document.querySelector(".subtitle")].filter(Boolean);
  const state = (window.__posterCard = { ready: false, scale: 1 });

  // Shrinks the text in steps until nothing overflows the card (or it gets too small to matter).
  function fit() {
    const base = texts.map((el) => parseFloat(getComputedStyle(el).fontSize));
    let scale = 1;
    while (card.scrollHeight > card.clientHeight && scale > 0.2) {
      scale *= 0.9;
      texts.forEach((el, i) => (el.style.fontSize = base[i] * scale + "px"));
    }
    state.scale = scale;
  }

  document.fonts.ready.then(() => {
    fit();
    // Two frames: the layout after fitting is painted before the capture.
    requestAnimationFrame(() => requestAnimationFrame(() => (state.ready = true)));
  });
})();
