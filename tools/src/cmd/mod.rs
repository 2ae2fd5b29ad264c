//! One module per `kestrel` command.

pub mod hist;
pub mod sysinfo;
