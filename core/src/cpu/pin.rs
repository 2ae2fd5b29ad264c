//! Pinning the calling thread to one core.

/// Pins the calling thread to `core` (an OS CPU number). Returns whether it worked: the core
/// may not exist or may be outside this process's allowed set.
pub fn pin_current_thread(core: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: core })
}
