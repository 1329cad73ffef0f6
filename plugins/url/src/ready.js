// Kiln's `url` job type, in the piece's page on Kiln's virtual clock. `until(test, budgetMs)`
// steps the clock one 60 fps frame at a time, about as fast as real time (the page's scripts and
// fetches load in real time), until `test()` holds or `budgetMs` of real time passed, and says
// which. `settle(ms)` runs `ms` of virtual time, frame by frame, at once. The plugin calls them
// in slices shorter than a DevTools call may take.
({
  async until(test, budgetMs) {
    const clock = window.__kilnClock;
    const frame = 1000 / 60;
    const begin = clock.native.now();
    while (!test()) {
      if (clock.native.now() - begin > budgetMs) return false;
      await clock.advanceTo(clock.now() + frame);
      await new Promise((resolve) => clock.native.setTimeout(resolve, frame));
    }
    return true;
  },
  async settle(ms) {
    const clock = window.__kilnClock;
    const frame = 1000 / 60;
    const until = clock.now() + ms;
    while (clock.now() + frame <= until) await clock.advanceTo(clock.now() + frame);
    await clock.advanceTo(until);
    return true;
  },
})
