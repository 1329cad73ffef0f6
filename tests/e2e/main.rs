//! Kiln's end-to-end tests, one module per area, built as one test binary: they share one build of
//! `kiln-test-support` and one link of the host, instead of twenty.
//!
//! Modules assume a process of their own: several count the processes this test process started
//! (no stray ffmpeg, one pool browser) and keep a Kiln in a static for all their tests.
//! `tests/run.sh` runs the binary once per module; run one area with
//! `cargo test -p kiln --test e2e -- video::` (see docs/architecture.md, "Tests").

mod api_hardening;
mod bad_input;
mod bake;
mod browser_crash;
mod bundle;
mod cards;
mod cli;
mod clients;
mod dashboard;
mod hostile;
mod isolation;
mod js_render;
mod kidlisp;
mod oven_routes;
mod p5_render;
mod page_script;
mod plugin_platform;
mod plugin_sdk;
mod queue_conformance;
mod recycling;
mod redis_queue;
mod sandbox;
mod schedules;
mod service;
mod sources;
mod storage;
mod url_pieces;
mod video;
