//! CPU placement: which core each stage runs on, whether those cores are isolated from the
//! scheduler, memory locking and pre-faulting, and thread pinning.
//!
//! The system is read from a sysfs root that tests replace with a fake tree.

mod check;
mod config;
mod cpulist;
mod memlock;
mod pin;
mod sysfs;

pub use check::{IsolationError, IsolationWarning, StagePlacement, check_placement};
pub use config::CpuConfig;
pub use cpulist::{CpuListError, parse_cpu_list};
pub use memlock::{MemlockError, STACK_PREFAULT_BYTES, lock_all_memory, prefault, prefault_stack};
pub use pin::{allowed_cores, pin_current_thread};
pub use sysfs::{CpuInfo, SysRoot};
