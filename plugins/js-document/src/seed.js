(() => {
  // Kiln's seeded Math.random: sfc32 from the job's 64-bit seed, exactly as Kiln seeds its pages,
  // so this file draws the same numbers offline as it did in Kiln.
  let a = __KILN_SEED_LO__ >>> 0, b = __KILN_SEED_HI__ >>> 0, c = 0x9e3779b9, d = 0x85ebca6b;
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
})();
