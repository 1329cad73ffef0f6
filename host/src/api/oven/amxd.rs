//! The oven's Max for Live device (`GET /bundle-html?format=m4d`, shared/OVEN.md §9.1): an
//! offline bundle inside a Max patcher, whose `jweb~` plays it from a `data:` URL, with the page's
//! audio routed to the device's two outputs and its `log`, `error` and `warn` messages sent over
//! UDP to 127.0.0.1:7777 (where aesthetic.computer's tools listen for them).

use base64::Engine;
use serde_json::{Value, json};

/// The device's size in Live's device view, in pixels (the oven's: 400 × 200).
const WIDTH: f64 = 400.0;
const HEIGHT: f64 = 200.0;

/// The `.amxd` file name of a piece, as the oven names it.
pub fn file_name(piece: &str) -> String {
    format!("AC {piece} (offline).amxd")
}

/// The device file playing `html`: `ampf`, a 4-byte format version, `iiiimeta` (an instrument
/// device) with an empty meta chunk, then `ptch`, the patcher's length as a little-endian `u32`,
/// and the patcher as JSON. `None` when the patcher would not fit the 4 GiB the length can say
/// (a bundle is kilobytes).
pub fn device(html: &[u8]) -> Option<Vec<u8>> {
    let url = format!(
        "data:text/html;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(html)
    );
    let patcher = serde_json::to_vec(&patcher(&url)).expect("a JSON value serializes");
    let length = u32::try_from(patcher.len()).ok()?;
    let mut file = Vec::with_capacity(patcher.len() + 32);
    file.extend_from_slice(b"ampf");
    file.extend_from_slice(&4u32.to_le_bytes());
    file.extend_from_slice(b"iiiimeta");
    file.extend_from_slice(&4u32.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(b"ptch");
    file.extend_from_slice(&length.to_le_bytes());
    file.extend_from_slice(&patcher);
    Some(file)
}

/// A box of the patcher: `id`, its Max class (or `newobj` with `text`), inlets, outlet types and
/// where it sits in the patching view.
fn object(id: &str, text: &str, inlets: u32, outlets: &[&str], rect: [f64; 4]) -> Value {
    json!({"box": {
        "id": id,
        "maxclass": "newobj",
        "text": text,
        "numinlets": inlets,
        "numoutlets": outlets.len(),
        "outlettype": outlets,
        "patching_rect": rect,
    }})
}

fn line(from: (&str, u32), to: (&str, u32)) -> Value {
    json!({"patchline": {"source": [from.0, from.1], "destination": [to.0, to.1]}})
}

/// The patcher (Max 9.0.7, opened in presentation): the `jweb~` filling the device, `plugout~ 1
/// 2` for its audio, and `routepass log error warn` → `udpsend 127.0.0.1 7777` for its messages.
fn patcher(url: &str) -> Value {
    let web = json!({"box": {
        "id": "obj-web",
        "maxclass": "jweb~",
        "url": url,
        "rendermode": 0,
        "numinlets": 1,
        "numoutlets": 3,
        "outlettype": ["signal", "signal", ""],
        "patching_rect": [20.0, 20.0, WIDTH, HEIGHT],
        "presentation": 1,
        "presentation_rect": [0.0, 0.0, WIDTH, HEIGHT],
    }});
    let below = 40.0 + HEIGHT;
    json!({"patcher": {
        "fileversion": 1,
        "appversion": {"major": 9, "minor": 0, "revision": 7, "architecture": "x64", "modernui": 1},
        "classnamespace": "box",
        "rect": [100.0, 100.0, WIDTH + 40.0, HEIGHT + 160.0],
        "openinpresentation": 1,
        "devicewidth": WIDTH,
        "boxes": [
            web,
            object("obj-out", "plugout~ 1 2", 2, &[], [20.0, below, 80.0, 22.0]),
            object(
                "obj-route",
                "routepass log error warn",
                1,
                &["", "", "", ""],
                [160.0, below, 150.0, 22.0],
            ),
            object("obj-udp", "udpsend 127.0.0.1 7777", 1, &[], [160.0, below + 40.0, 150.0, 22.0]),
        ],
        "lines": [
            line(("obj-web", 0), ("obj-out", 0)),
            line(("obj-web", 1), ("obj-out", 1)),
            line(("obj-web", 2), ("obj-route", 0)),
            line(("obj-route", 0), ("obj-udp", 0)),
            line(("obj-route", 1), ("obj-udp", 0)),
            line(("obj-route", 2), ("obj-udp", 0)),
        ],
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_is_the_oven_container_around_a_patcher_playing_the_page() {
        let html = b"<!doctype html><title>piece</title>";
        let file = device(html).unwrap();
        assert_eq!(&file[..4], b"ampf");
        assert_eq!(&file[4..8], &[4, 0, 0, 0]);
        assert_eq!(&file[8..16], b"iiiimeta");
        assert_eq!(&file[16..24], &[4, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&file[24..28], b"ptch");
        let length = u32::from_le_bytes(file[28..32].try_into().unwrap()) as usize;
        assert_eq!(length, file.len() - 32, "the length is the patcher's");
        let patcher: Value = serde_json::from_slice(&file[32..]).unwrap();
        let patcher = &patcher["patcher"];
        assert_eq!(patcher["openinpresentation"], 1);
        assert_eq!(patcher["appversion"]["major"], 9);
        let boxes = patcher["boxes"].as_array().unwrap();
        let web = boxes
            .iter()
            .find(|b| b["box"]["maxclass"] == "jweb~")
            .expect("a jweb~");
        let url = web["box"]["url"].as_str().unwrap();
        let page = base64::engine::general_purpose::STANDARD
            .decode(url.strip_prefix("data:text/html;base64,").unwrap())
            .unwrap();
        assert_eq!(page, html, "the jweb~ plays the bundle itself");
        let texts: Vec<&str> = boxes
            .iter()
            .filter_map(|b| b["box"]["text"].as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "plugout~ 1 2",
                "routepass log error warn",
                "udpsend 127.0.0.1 7777"
            ]
        );
        // Both audio channels reach plugout~, every routed message reaches udpsend.
        let lines = patcher["lines"].as_array().unwrap();
        let connects = |from: &str, outlet: u32, to: &str, inlet: u32| {
            lines.iter().any(|l| {
                l["patchline"]["source"] == json!([from, outlet])
                    && l["patchline"]["destination"] == json!([to, inlet])
            })
        };
        assert!(connects("obj-web", 0, "obj-out", 0) && connects("obj-web", 1, "obj-out", 1));
        assert!(connects("obj-web", 2, "obj-route", 0));
        assert!((0..3).all(|outlet| connects("obj-route", outlet, "obj-udp", 0)));
        assert_eq!(file_name("$roz"), "AC $roz (offline).amxd");
    }
}
