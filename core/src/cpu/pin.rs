//! Pinning the calling thread to one core.

/// Pins the calling thread to `core` (an OS CPU number). Returns whether it worked: the core
/// may not exist or may be outside this process's allowed set.
pub fn pin_current_thread(core: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: core })
}

/// The cores this process may run on (its affinity mask), or `None` when the OS does not say.
pub fn allowed_cores() -> Option<Vec<usize>> {
    core_affinity::get_core_ids().map(|ids| ids.into_iter().map(|c| c.id).collect())
}
