//! Colour: names and palette codes (§6.2–6.3), turning `ink`/`wipe`
//! arguments into RGBA the way graph.mjs's `findColor` does (§6.1), the
//! `rainbow`/`zebra` cycles (§6.4) and `fade:` gradients (§6.5).

pub mod fade;
pub mod names;
mod resolve;

pub(crate) use resolve::{Found, find_color};

/// The state behind `rainbow` and `zebra`.
#[derive(Debug, Clone, Default)]
pub struct Cycles {
    rainbow: usize,
    zebra: usize,
    zebra_used: bool,
}

const RAINBOW: [[u8; 3]; 7] = [
    [255, 0, 0],
    [255, 165, 0],
    [255, 255, 0],
    [0, 128, 0],
    [0, 0, 255],
    [75, 0, 130],
    [238, 130, 238],
];

impl Cycles {
    /// The next rainbow colour: every resolution of `rainbow` advances one step.
    pub fn rainbow(&mut self, offset: usize) -> [u8; 3] {
        let c = RAINBOW[(self.rainbow + offset) % RAINBOW.len()];
        self.rainbow = (self.rainbow + 1) % RAINBOW.len();
        c
    }

    /// The zebra colour: black/white, advancing on the first use in each frame.
    pub fn zebra(&mut self, offset: usize) -> [u8; 3] {
        if !self.zebra_used {
            self.zebra = (self.zebra + 1) % 2;
            self.zebra_used = true;
        }
        if (self.zebra + offset) % 2 == 1 {
            [255, 255, 255]
        } else {
            [0, 0, 0]
        }
    }

    /// Start a new frame for zebra's once-per-frame cadence.
    pub fn new_frame(&mut self) {
        self.zebra_used = false;
    }
}
