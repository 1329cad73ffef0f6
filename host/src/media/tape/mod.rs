//! Tapes: existing frames, optional per-frame timings and an optional WAV soundtrack, baked into
//! an MP4 and a thumbnail (the old `/bake` route).
