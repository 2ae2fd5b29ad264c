//! The ops-thread side of hot reload: watches the parameter file (modification time, length and
//! contents) and a reload trigger (SIGHUP or the CLI), validates new contents and publishes them
//! through the [`super::handoff`]. A rejected file leaves the parameters in force unchanged.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::{
    ChangeSet, ParamsError, ParamsPublisher, StrategyParams, UniverseSpec, parse_strategy_file,
};

/// What one [`ParamsWatcher::poll`] found.
#[derive(Debug)]
pub enum WatchOutcome {
    /// Nothing new (or new text with the same parameters).
    Unchanged,
    /// A new valid set was published to the strategy thread.
    Published {
        /// Its version.
        version: u64,
        /// Sections that differ from the previous set.
        changed: ChangeSet,
    },
    /// The file changed but was rejected; the previous set stays in force.
    Rejected(ParamsError),
}

/// Watches one parameter file for the ops thread.
#[derive(Debug)]
pub struct ParamsWatcher {
    path: PathBuf,
    publisher: ParamsPublisher,
    current: StrategyParams,
    /// The file's `[universe]` when the watch started: fixed for the run.
    universe: Option<UniverseSpec>,
    model_count: usize,
    last_stat: Option<(Option<SystemTime>, u64)>,
    last_hash: Option<u64>,
    trigger: Arc<AtomicBool>,
}

impl ParamsWatcher {
    /// A watcher of `path`, whose parameters in force are `current` (already loaded from it),
    /// for an alpha set of `model_count` models.
    pub fn new(
        path: &Path,
        current: StrategyParams,
        model_count: usize,
        publisher: ParamsPublisher,
    ) -> Self {
        let mut watcher = Self {
            path: path.to_owned(),
            publisher,
            current,
            universe: None,
            model_count,
            last_stat: None,
            last_hash: None,
            trigger: Arc::new(AtomicBool::new(false)),
        };
        watcher.last_stat = watcher.stat();
        let text = std::fs::read(path).ok();
        watcher.last_hash = text.as_deref().map(hash);
        watcher.universe = text
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|t| parse_strategy_file(t).ok())
            .and_then(|f| f.universe);
        watcher
    }

    /// A flag that forces a re-read at the next poll when set (what SIGHUP sets; a CLI can set
    /// it too).
    pub fn trigger(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.trigger)
    }

    /// Sets the reload trigger on SIGHUP.
    pub fn register_sighup(&self) -> std::io::Result<signal_hook::SigId> {
        signal_hook::flag::register(signal_hook::consts::SIGHUP, self.trigger())
    }

    /// The parameters in force (the last published, or the initial set).
    pub fn current(&self) -> &StrategyParams {
        &self.current
    }

    /// Checks the file and the trigger once; publishes a new valid set.
    pub fn poll(&mut self) -> WatchOutcome {
        let forced = self.trigger.swap(false, Ordering::AcqRel);
        let stat = self.stat();
        if !forced && stat == self.last_stat {
            return WatchOutcome::Unchanged;
        }
        self.last_stat = stat;
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(source) => {
                return WatchOutcome::Rejected(ParamsError::Io {
                    file: self.path.clone(),
                    source,
                });
            }
        };
        let h = hash(&bytes);
        if !forced && Some(h) == self.last_hash {
            return WatchOutcome::Unchanged;
        }
        self.last_hash = Some(h);
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|e| ParamsError::Syntax {
                line: 0,
                reason: format!("not UTF-8: {e}"),
            })
            .and_then(parse_strategy_file)
            .and_then(|f| {
                if f.universe != self.universe {
                    return Err(ParamsError::field(
                        "universe.symbols",
                        "the universe is fixed for the run (the strategy's state is sized to \
                         it); restart to change it",
                    ));
                }
                f.params.expect_models(self.model_count).map(|()| f.params)
            });
        match parsed {
            Err(e) => WatchOutcome::Rejected(e),
            Ok(params) if params == self.current => WatchOutcome::Unchanged,
            Ok(params) => {
                let changed = ChangeSet::between(&self.current, &params);
                self.current = params;
                let version = self.publisher.publish(params);
                WatchOutcome::Published { version, changed }
            }
        }
    }

    fn stat(&self) -> Option<(Option<SystemTime>, u64)> {
        std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}
