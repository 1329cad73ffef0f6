//! Natural ordering of frame names, so `frame2.png` comes before `frame10.png`.

use std::cmp::Ordering;

/// Compares names with runs of digits compared as numbers (`a2` < `a10`), everything else byte by
/// byte. Equal numbers with different zero padding (`1`, `01`) put the shorter first, and a full
/// byte comparison breaks any remaining tie, so the order is total and deterministic.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (rx, ry) = (run(x), run(y));
                let strip = |s: &[u8]| {
                    let zeros = s.iter().take_while(|&&c| c == b'0').count();
                    s[zeros..].to_vec()
                };
                let (nx, ny) = (strip(&x[..rx]), strip(&y[..ry]));
                // More significant digits is a larger number; same length compares lexically.
                let order = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(&ny));
                let order = order.then_with(|| rx.cmp(&ry));
                if order != Ordering::Equal {
                    return order;
                }
                x = &x[rx..];
                y = &y[ry..];
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_by_value() {
        let mut names = vec![
            "frame10.png",
            "frame2.png",
            "frame1.png",
            "frame02.png",
            "a/frame3.png",
            "frame.png",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "a/frame3.png",
                "frame.png",
                "frame1.png",
                "frame2.png",
                "frame02.png",
                "frame10.png"
            ]
        );
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    }
}
