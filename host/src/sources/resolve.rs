//! A piece's embeds, resolved by the host: each `$code` in its source is fetched, then each
//! `$code` in those, breadth first, each once, within `sources.max_embed_depth` levels and
//! `sources.max_embeds` pieces.

use super::api::StoredSource;
use crate::error::RenderError;

/// Where pieces come from (the store's client; a table in tests).
#[async_trait::async_trait]
pub trait PieceFetch: Send + Sync {
    /// Piece `code`'s source (normalized code).
    async fn fetch(&self, code: &str) -> Result<StoredSource, RenderError>;
}

/// How far embeds are followed.
#[derive(Debug, Clone, Copy)]
pub struct EmbedLimits {
    /// Levels of embeds followed (1: the piece's own embeds only).
    pub max_depth: u32,
    /// Most embedded pieces in all.
    pub max_embeds: u32,
}

/// A piece with every piece it embeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The piece asked for.
    pub code: String,
    /// Its source and handle.
    pub piece: StoredSource,
    /// `(code, source)` of each embedded piece, breadth first, each once.
    pub embeds: Vec<(String, String)>,
}

/// The codes a source embeds; a source that does not parse embeds nothing the host can find
/// (the renderer reports its syntax error with line and column).
fn embedded_codes(source: &str) -> Vec<String> {
    kidlisp::Program::parse(source)
        .map(|program| program.embedded_codes())
        .unwrap_or_default()
}

/// Resolves piece `code` (normalized) and its embeds through `fetch`.
pub async fn resolve(
    fetch: &dyn PieceFetch,
    code: &str,
    limits: EmbedLimits,
) -> Result<Resolved, RenderError> {
    let piece = fetch.fetch(code).await?;
    let mut seen = vec![code.to_string()];
    let mut embeds = Vec::new();
    // Each code waiting to be fetched, with the chain of embeds that led to it.
    let mut level: Vec<(String, Vec<String>)> = embedded_codes(&piece.source)
        .into_iter()
        .map(|c| (c, vec![code.to_string()]))
        .collect();
    let mut depth = 1;
    while !level.is_empty() {
        let mut next = Vec::new();
        for (embed, chain) in level {
            if seen.contains(&embed) {
                continue;
            }
            let path = || {
                chain
                    .iter()
                    .chain([&embed])
                    .map(|c| format!("${c}"))
                    .collect::<Vec<_>>()
                    .join(" → ")
            };
            if depth > limits.max_depth {
                return Err(RenderError::invalid_input(format!(
                    "${code} embeds pieces {depth} levels deep ({}), past this host's limit of \
                     {} (sources.max_embed_depth)",
                    path(),
                    limits.max_depth
                )));
            }
            if embeds.len() as u32 >= limits.max_embeds {
                return Err(RenderError::invalid_input(format!(
                    "${code} embeds more than {} pieces (the next is {}), this host's limit \
                     (sources.max_embeds)",
                    limits.max_embeds,
                    path()
                )));
            }
            seen.push(embed.clone());
            let got = fetch.fetch(&embed).await.map_err(|e| RenderError {
                kind: e.kind,
                message: format!("resolving the embed {}: {}", path(), e.message),
            })?;
            let mut below = chain.clone();
            below.push(embed.clone());
            next.extend(
                embedded_codes(&got.source)
                    .into_iter()
                    .map(|c| (c, below.clone())),
            );
            embeds.push((embed, got.source));
        }
        level = next;
        depth += 1;
    }
    Ok(Resolved {
        code: code.to_string(),
        piece,
        embeds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::collections::HashMap;
    use std::sync::Mutex;

    struct Table {
        pieces: HashMap<&'static str, &'static str>,
        asked: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl PieceFetch for Table {
        async fn fetch(&self, code: &str) -> Result<StoredSource, RenderError> {
            self.asked.lock().unwrap().push(code.to_string());
            self.pieces
                .get(code)
                .map(|s| StoredSource {
                    source: s.to_string(),
                    handle: None,
                })
                .ok_or_else(|| RenderError::invalid_input(format!("piece ${code} was not found")))
        }
    }

    fn table(pieces: &[(&'static str, &'static str)]) -> Table {
        Table {
            pieces: pieces.iter().copied().collect(),
            asked: Mutex::new(Vec::new()),
        }
    }

    const WIDE: EmbedLimits = EmbedLimits {
        max_depth: 8,
        max_embeds: 32,
    };

    #[tokio::test]
    async fn embeds_resolve_breadth_first_each_once_through_cycles() {
        let t = table(&[
            ("top", "($aa 0 0 8 8) ($bb:24 8 0 8 8) ($aa)"),
            ("aa", "(wipe red) ($cc)"),
            ("bb", "(wipe blue) ($top)"),
            ("cc", "(ink \"$notacode\") (box 0 0 2 2)"),
        ]);
        let got = resolve(&t, "top", WIDE).await.unwrap();
        let codes: Vec<&str> = got.embeds.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(codes, ["aa", "bb", "cc"]);
        assert_eq!(*t.asked.lock().unwrap(), ["top", "aa", "bb", "cc"]);
    }

    #[tokio::test]
    async fn depth_and_count_limits_name_the_chain_and_the_key() {
        let t = table(&[("a", "($b)"), ("b", "($c)"), ("c", "($d)"), ("d", "(wipe)")]);
        let limits = EmbedLimits {
            max_depth: 2,
            max_embeds: 32,
        };
        let err = resolve(&t, "a", limits).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.message.contains("$a → $b → $c → $d")
                && err.message.contains("sources.max_embed_depth"),
            "{err}"
        );
        let t = table(&[("a", "($b) ($c) ($d)"), ("b", ""), ("c", ""), ("d", "")]);
        let limits = EmbedLimits {
            max_depth: 8,
            max_embeds: 2,
        };
        let err = resolve(&t, "a", limits).await.unwrap_err();
        assert!(err.message.contains("sources.max_embeds"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_embed_is_named_with_its_chain() {
        let t = table(&[("a", "($b)"), ("b", "($zz)")]);
        let err = resolve(&t, "a", WIDE).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.message
                .starts_with("resolving the embed $a → $b → $zz: piece $zz"),
            "{err}"
        );
    }
}
