//! Which stored objects a job may read (`storage.get`: tape frames, ZIPs, soundtracks).
//!
//! Writing is confined by construction (a plugin names the artifact, the host makes the key
//! `<job-id>/<name>`); reading takes a key from the plugin, which takes it from a stranger's
//! input, so it is checked: a job reads the keys under its own id, and the keys under the
//! prefixes the operator granted its plugin (`plugins.per_plugin.<name>.read_prefixes`; none by
//! default). Keys and prefixes are compared by whole path segments, so granting `shared` does
//! not grant `shared-secrets/…`, and `..`, `.` and empty segments are refused outright.

use crate::error::RenderError;

/// The prefix that grants every key (for a deployment whose submitters are all trusted).
pub const EVERY_KEY: &str = "*";

/// What one job may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadScope {
    /// The job's own id: everything under `<job_id>/` is readable.
    pub job_id: String,
    /// The plugin's name, for messages.
    pub plugin: String,
    /// Prefixes granted to the plugin (whole segments, `/`-separated, without a trailing `/`
    /// needed), or [`EVERY_KEY`].
    pub granted_prefixes: Vec<String>,
}

/// The `/`-separated segments of a key, or why it is not one.
fn segments(key: &str) -> Result<Vec<&str>, String> {
    if key.is_empty() {
        return Err("it is empty".into());
    }
    if key.len() > 1024 {
        return Err("it is longer than 1024 bytes".into());
    }
    let parts: Vec<&str> = key.split('/').collect();
    for part in &parts {
        match *part {
            "" => {
                return Err("it has an empty segment (a leading, trailing or doubled '/')".into());
            }
            "." | ".." => return Err(format!("it has a {part:?} segment")),
            _ if part.chars().any(|c| c.is_control() || c == '\\') => {
                return Err("it has a control character or '\\'".into());
            }
            _ => {}
        }
    }
    Ok(parts)
}

/// Checks a prefix from config (`read_prefixes`): [`EVERY_KEY`], or whole segments with an
/// optional trailing `/`.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix == EVERY_KEY {
        return Ok(());
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    segments(trimmed).map(|_| ()).map_err(|why| {
        format!(
            "{prefix:?} is not a key prefix: {why} (use e.g. \"shared/\", or \"*\" for every key)"
        )
    })
}

/// The first key segment the host itself writes under (the oven routes' notes,
/// `oven/frozen/…`). A client may not choose it as a job id, since a job writes under its id.
pub const HOST_SEGMENT: &str = "oven";

/// Where the oven's `/bake` route stores baked tapes (`tapes/{code}.mp4`, shared/OVEN.md §10),
/// a key the host owns too: a job named `tapes` could otherwise overwrite a tape with an
/// artifact of the same name.
pub const TAPES_SEGMENT: &str = "tapes";

/// Whether a client may name a job `id`: not when `<id>/…` would be a key the host owns
/// ([`HOST_SEGMENT`]) or one under a prefix granted for reading (`granted`, from every plugin's
/// `read_prefixes`), because the job's own artifacts would land there and another job granted
/// that prefix would read them as the operator's.
pub fn check_job_id(id: &str, granted: &[String]) -> Result<(), RenderError> {
    let reserved = |prefix: &str| prefix.split('/').next() == Some(id);
    if id == HOST_SEGMENT || id == TAPES_SEGMENT {
        return Err(RenderError::invalid_input(format!(
            "id {id:?} is reserved: the host keeps its own objects under {id}/; choose another id"
        )));
    }
    if let Some(prefix) = granted.iter().find(|p| *p != EVERY_KEY && reserved(p)) {
        return Err(RenderError::invalid_input(format!(
            "id {id:?} is reserved: jobs are granted reading under {prefix:?}, and a job's \
             artifacts are kept under its id; choose another id"
        )));
    }
    Ok(())
}

impl ReadScope {
    pub fn new(
        job_id: impl Into<String>,
        plugin: impl Into<String>,
        granted_prefixes: Vec<String>,
    ) -> Self {
        Self {
            job_id: job_id.into(),
            plugin: plugin.into(),
            granted_prefixes,
        }
    }

    /// Whether the job may read `key`: `invalid-input` if it is not a key, `denied` if it is
    /// outside the job's own keys and its plugin's granted prefixes.
    pub fn check(&self, key: &str) -> Result<(), RenderError> {
        let parts = segments(key).map_err(|why| {
            RenderError::invalid_input(format!("{key:?} is not a storage key: {why}"))
        })?;
        if parts.len() >= 2 && parts[0] == self.job_id {
            return Ok(());
        }
        let granted = self.granted_prefixes.iter().any(|prefix| {
            if prefix == EVERY_KEY {
                return true;
            }
            let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
            match segments(prefix) {
                Ok(wanted) => parts.len() > wanted.len() && parts[..wanted.len()] == wanted[..],
                Err(_) => false,
            }
        });
        if granted {
            return Ok(());
        }
        let granted = if self.granted_prefixes.is_empty() {
            "none".to_string()
        } else {
            self.granted_prefixes.join(", ")
        };
        Err(RenderError::denied(format!(
            "this job may not read stored object {key:?}: a job reads only the keys under its own id \
             ({}/…) and under the prefixes granted to its plugin (granted: {granted}); an operator can \
             grant more with plugins.per_plugin.{}.read_prefixes",
            self.job_id, self.plugin
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn scope(prefixes: &[&str]) -> ReadScope {
        ReadScope::new(
            "job-1",
            "video",
            prefixes.iter().map(|p| p.to_string()).collect(),
        )
    }

    fn kind(result: Result<(), RenderError>) -> Option<ErrorKind> {
        result.err().map(|e| e.kind)
    }

    #[test]
    fn ids_that_would_write_under_a_granted_or_host_prefix_are_refused() {
        let granted = vec![
            "shared/".to_string(),
            "tapes/frames".to_string(),
            "*".to_string(),
        ];
        for id in ["shared", "tapes", "oven"] {
            let err = check_job_id(id, &granted).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput);
            assert!(err.message.contains("reserved"), "{}", err.message);
        }
        for id in ["shared-2", "frames", "job-1"] {
            assert!(check_job_id(id, &granted).is_ok(), "{id}");
        }
    }

    #[test]
    fn a_job_reads_its_own_keys_and_nothing_else_by_default() {
        let own = scope(&[]);
        assert!(own.check("job-1/image.png").is_ok());
        assert!(own.check("job-1/frames/f0001.png").is_ok());
        for other in [
            "job-2/image.png",
            "job-10/image.png",
            "job-1x/a.png",
            "shared/a.png",
        ] {
            let err = own.check(other).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Denied, "{other}");
            assert!(
                err.message
                    .contains("plugins.per_plugin.video.read_prefixes")
                    && err.message.contains("granted: none"),
                "{}",
                err.message
            );
        }
        // The job's id alone is no key under it.
        assert_eq!(kind(own.check("job-1")), Some(ErrorKind::Denied));
    }

    #[test]
    fn keys_that_climb_out_or_hide_their_segments_are_refused() {
        let own = scope(&["shared/"]);
        for bad in [
            "job-1/../job-2/image.png",
            "job-1/./a.png",
            "/job-1/a.png",
            "job-1//a.png",
            "job-1/a.png/",
            "shared/../job-2/a.png",
            "job-1/a\\..\\b",
            "",
        ] {
            assert_eq!(
                kind(own.check(bad)),
                Some(ErrorKind::InvalidInput),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn granted_prefixes_match_whole_segments() {
        let granted = scope(&["shared/", "tapes/2024"]);
        assert!(granted.check("shared/a.png").is_ok());
        assert!(granted.check("shared/deep/b.png").is_ok());
        assert!(granted.check("tapes/2024/f.png").is_ok());
        for denied in [
            "shared-secrets/a.png",
            "shared",
            "tapes/2025/f.png",
            "tapes/20240/f.png",
        ] {
            assert_eq!(
                kind(granted.check(denied)),
                Some(ErrorKind::Denied),
                "{denied}"
            );
        }
        let everything = scope(&[EVERY_KEY]);
        assert!(everything.check("job-2/image.png").is_ok());
        assert_eq!(
            kind(everything.check("job-2/../x")),
            Some(ErrorKind::InvalidInput)
        );
    }

    #[test]
    fn config_prefixes_are_checked() {
        assert!(check_prefix("shared/").is_ok());
        assert!(check_prefix("tapes/2024").is_ok());
        assert!(check_prefix("*").is_ok());
        for bad in ["", "/", "../x", "a//b", "/shared"] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
