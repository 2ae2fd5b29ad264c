//! Is the planned placement of stages on cores safe for low latency?

use std::collections::BTreeMap;

use super::CpuInfo;

/// One stage thread's planned core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagePlacement {
    /// Stage name.
    pub stage: String,
    /// Core it will be pinned to.
    pub core: usize,
    /// Whether its wait strategy busy-spins.
    pub busy_spin: bool,
}

/// Something about the placement that costs latency.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsolationWarning {
    /// The core is not online (pinning will fail).
    #[error("stage {stage} is pinned to core {core}, which is not online")]
    Offline {
        /// Stage name.
        stage: String,
        /// Core.
        core: usize,
    },
    /// The scheduler may put other tasks on the stage's core.
    #[error("stage {stage} is pinned to core {core}, which is not isolated (isolcpus)")]
    NotIsolated {
        /// Stage name.
        stage: String,
        /// Core.
        core: usize,
    },
    /// The scheduler tick still interrupts the stage's core.
    #[error("stage {stage} is pinned to core {core}, which is not nohz_full")]
    NotNohzFull {
        /// Stage name.
        stage: String,
        /// Core.
        core: usize,
    },
    /// Two busy-spinning stages take turns on one core in scheduler time slices.
    #[error("busy-spinning stages {first} and {second} share core {core}")]
    SharedSpin {
        /// One stage.
        first: String,
        /// The other.
        second: String,
        /// Core.
        core: usize,
    },
}

/// The placement was refused because isolation is required.
#[derive(Debug, thiserror::Error)]
#[error("CPU placement refused (cpu.require_isolated): {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct IsolationError {
    /// Every problem found.
    pub problems: Vec<IsolationWarning>,
}

/// Checks `plan` against the host. Returns the warnings, or refuses with all of them when
/// `require_isolated` is set and there is any (a missing `nohz_full` alone only warns).
pub fn check_placement(
    plan: &[StagePlacement],
    cpu: &CpuInfo,
    require_isolated: bool,
) -> Result<Vec<IsolationWarning>, IsolationError> {
    let mut warnings = Vec::new();
    for p in plan {
        if !cpu.online.is_empty() && !cpu.online.contains(&p.core) {
            warnings.push(IsolationWarning::Offline {
                stage: p.stage.clone(),
                core: p.core,
            });
        }
        if !cpu.isolated.contains(&p.core) {
            warnings.push(IsolationWarning::NotIsolated {
                stage: p.stage.clone(),
                core: p.core,
            });
        }
        if !cpu.nohz_full.contains(&p.core) {
            warnings.push(IsolationWarning::NotNohzFull {
                stage: p.stage.clone(),
                core: p.core,
            });
        }
    }
    let mut spinners: BTreeMap<usize, &str> = BTreeMap::new();
    for p in plan.iter().filter(|p| p.busy_spin) {
        if let Some(first) = spinners.insert(p.core, &p.stage) {
            warnings.push(IsolationWarning::SharedSpin {
                first: first.to_owned(),
                second: p.stage.clone(),
                core: p.core,
            });
        }
    }
    let fatal = warnings
        .iter()
        .any(|w| !matches!(w, IsolationWarning::NotNohzFull { .. }));
    if require_isolated && fatal {
        return Err(IsolationError { problems: warnings });
    }
    Ok(warnings)
}
