//! The pipeline: stages behind small traits, connected by preallocated single-producer rings
//! (the `disruptor` crate), run three ways over the same stage code:
//!
//! - **threaded** ([`run_threaded`]): one thread per stage, each pinned to the core its config
//!   names and named after its stage, rings between them, plus an unpinned ops thread;
//! - **inline** ([`run_inline`], [`run_inline_on`] to pin it): every stage called in sequence on
//!   the calling thread (few-core hosts, deterministic replay), pinned to the `feed` core when
//!   the config names one;
//! - **under test**: both of the above with small rings and yielding waits.
//!
//! Both modes run an ops thread beside the hot thread(s) ([`Ops`], [`OpsTask`]): it takes the
//! finished latency intervals (swapped, never copied, out of each hot thread's recorder),
//! streams them (`latency.hlog`), keeps progress, and runs periodic work such as parameter hot
//! reload. It consumes no data ring, so a descheduled ops thread never holds the feed back.
//!
//! Every hot thread starts the same way ([`start_hot_thread`]): pinned first, then its stack
//! pre-faulted, its recorder and (for a producer) its ring allocated on that thread.
//!
//! Backpressure is explicit: a full ring makes the producer wait (with its configured
//! [`WaitStrategy`]), never drop, and the wait is recorded. Shutdown drains every ring, and the
//! [`RunReport`] accounts for every event (published = consumed = counted by ops).

mod config;
mod hash;
mod hot;
mod inline;
mod ops;
mod progress;
mod report;
mod ring;
mod stage;
mod synthetic;
mod threaded;
mod wait;

pub use config::{ConfigError, PipelineConfig, RunMode};
pub use hash::{OutputHash, UpdateHasher};
pub use hot::{HotStart, OpsRegistry, Recording, Registration, StartSlot, start_hot_thread};
pub use inline::{INLINE_TAGS, run_inline, run_inline_on};
pub use ops::{HlogStream, Ops, OpsTask};
pub use progress::Progress;
pub use report::{RunOutput, RunReport};
pub use ring::{Received, RingReceiver, RingSender, ring};
pub use stage::{Discard, Emit, Source, SourceStatus, Stage};
pub use synthetic::SyntheticSource;
pub use threaded::{
    CONSUMER, CONSUMER_TAGS, FEED, FEED_TAGS, OPS, RingEmit, StageCores, run_threaded,
};
pub use wait::{WaitStrategy, Waiter};

/// Why a pipeline could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A stage thread could not be started.
    #[error("starting the {stage} thread: {source}")]
    Spawn {
        /// Stage name.
        stage: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stage thread panicked.
    #[error("the {stage} thread panicked")]
    Panicked {
        /// Stage name.
        stage: &'static str,
    },
}
