//! The schedules' history in `<data_dir>/schedules.json`, for the embedded queue. The embedded
//! queue's database admits one process per data dir, so one process writes this file; each write
//! replaces it whole (a temporary file renamed over it), so a crash leaves the old or the new.

use super::state::{FireState, StateError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file, and a lock so that this process's writes do not interleave.
#[derive(Clone)]
pub struct FileStore {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

type States = BTreeMap<String, FireState>;

fn failed(path: &Path, what: &str, err: impl std::fmt::Display) -> StateError {
    StateError(format!("cannot {what} {}: {err}", path.display()))
}

impl FileStore {
    /// The history in `dir/schedules.json`.
    pub fn new(dir: &Path) -> Self {
        Self {
            path: dir.join("schedules.json"),
            lock: Arc::new(Mutex::new(())),
        }
    }

    fn read(&self) -> Result<States, StateError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| failed(&self.path, "read", e)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(States::new()),
            Err(err) => Err(failed(&self.path, "read", err)),
        }
    }

    fn write(&self, states: &States) -> Result<(), StateError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| failed(dir, "create", e))?;
        let mut file =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| failed(dir, "write in", e))?;
        serde_json::to_writer_pretty(&mut file, states)
            .map_err(|e| failed(&self.path, "write", e))?;
        file.as_file()
            .sync_all()
            .map_err(|e| failed(&self.path, "write", e))?;
        file.persist(&self.path)
            .map_err(|e| failed(&self.path, "write", e))?;
        Ok(())
    }

    fn update<T>(&self, change: impl FnOnce(&mut States) -> T) -> Result<T, StateError> {
        let _held = self.lock.lock().expect("schedule file lock");
        let mut states = self.read()?;
        let before = states.clone();
        let out = change(&mut states);
        if states != before {
            self.write(&states)?;
        }
        Ok(out)
    }

    pub(super) fn init(&self, name: &str, now_ms: u64) -> Result<FireState, StateError> {
        self.update(|states| {
            states
                .entry(name.to_string())
                .or_insert_with(|| FireState {
                    since_ms: now_ms,
                    ..FireState::default()
                })
                .clone()
        })
    }

    pub(super) fn get(&self, name: &str) -> Result<Option<FireState>, StateError> {
        let _held = self.lock.lock().expect("schedule file lock");
        Ok(self.read()?.remove(name))
    }

    pub(super) fn record(&self, name: &str, fire_ms: u64, job: &str) -> Result<(), StateError> {
        self.update(|states| {
            let state = states.entry(name.to_string()).or_insert_with(|| FireState {
                since_ms: fire_ms,
                ..FireState::default()
            });
            if state.last_fire_ms.is_none_or(|last| fire_ms > last) {
                state.last_fire_ms = Some(fire_ms);
                state.last_job = Some(job.to_string());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sighting_stays_and_only_a_later_fire_replaces_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        assert_eq!(store.get("a").unwrap(), None);
        assert_eq!(store.init("a", 100).unwrap().since_ms, 100);
        assert_eq!(store.init("a", 200).unwrap().since_ms, 100);
        store.record("a", 1000, "j1").unwrap();
        store.record("a", 900, "j0").unwrap();
        let again = FileStore::new(dir.path());
        assert_eq!(
            again.get("a").unwrap(),
            Some(FireState {
                since_ms: 100,
                last_fire_ms: Some(1000),
                last_job: Some("j1".into()),
            })
        );
    }
}
