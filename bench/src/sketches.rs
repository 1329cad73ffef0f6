//! The benchmark's sketches: distinct, seeded, typical editor sketches (shapes, colour, noise).

use kiln::cli::batch::BatchEntry;
use kiln::jobs::JobSpec;

/// `n` different global-mode sketches.
pub fn codes(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "function setup() {{\n  createCanvas({{W}}, {{W}});\n  noLoop();\n}}\n\
                 function draw() {{\n  background({bg}, 30, 60);\n  noStroke();\n\
                 for (let k = 0; k < 300; k++) {{\n    fill(random(255), random(255), {hue}, 180);\n\
                 const r = 10 + noise(k * 0.1, {i}) * 60;\n    ellipse(random(width), random(height), r, r);\n  }}\n\
                 stroke(255);\n  for (let x = 0; x < width; x += 8) {{\n    line(x, height / 2, x, height / 2 + sin(x * 0.02 + {i}) * 100);\n  }}\n}}\n",
                bg = (i * 37) % 255,
                hue = (i * 71) % 255,
            )
        })
        .collect()
}

/// Job specs for `codes` at `size`², ids prefixed with `tag`.
pub fn specs(codes: &[String], size: u32, tag: &str) -> Vec<BatchEntry> {
    codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            BatchEntry::Job(JobSpec {
                id: Some(format!("bench-{tag}-{i}")),
                job_type: "p5".into(),
                input: serde_json::json!({ "code": code.replace("{W}", &size.to_string()), "width": size, "height": size, "seed": i }),
                callback: None,
            })
        })
        .collect()
}
