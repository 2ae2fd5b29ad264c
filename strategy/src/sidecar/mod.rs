//! The core's side of the ML sidecar: the feature vector (shared with `kestrel-ml dataset`),
//! the link that publishes it and reads edges back (see `kestrel_core::shm` for the segment),
//! and the live IC of the edges used.

pub mod features;
pub mod link;
pub mod live_ic;

pub use features::{FEATURE_COUNT, FeatureBuilder, feature_names, feature_schema};
pub use link::{LinkError, SidecarConfig, SidecarLink, SidecarStats};
pub use live_ic::LiveIc;
