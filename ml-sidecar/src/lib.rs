//! Kestrel ML sidecar (libtorch through `tch`). Not built yet: a placeholder for the sidecar
//! issue. It is left out of `default-members` so the workspace builds without libtorch.
#![deny(unsafe_code)]
