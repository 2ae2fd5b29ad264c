//! What the kernel says about the CPUs: online, isolated and `nohz_full` lists, frequency
//! governors, the clock source and TSC flags. The root is injectable for tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{CpuListError, parse_cpu_list};

/// The filesystem root holding `sys/` and `proc/` (`/` on a real host, a temp dir in tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysRoot(pub PathBuf);

impl Default for SysRoot {
    fn default() -> Self {
        Self(PathBuf::from("/"))
    }
}

/// A snapshot of the host's CPU facts. Missing files read as empty (not every kernel has
/// them); malformed lists are errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuInfo {
    /// Online CPUs.
    pub online: Vec<usize>,
    /// CPUs removed from the scheduler (`isolcpus`).
    pub isolated: Vec<usize>,
    /// CPUs with the scheduler tick stopped when one task runs (`nohz_full`).
    pub nohz_full: Vec<usize>,
    /// Frequency governor per CPU, where cpufreq exposes one.
    pub governors: BTreeMap<usize, String>,
    /// The current clock source (`tsc` is what low-latency hosts want).
    pub clocksource: Option<String>,
    /// `/proc/cpuinfo` has `constant_tsc`.
    pub constant_tsc: bool,
    /// `/proc/cpuinfo` has `nonstop_tsc`.
    pub nonstop_tsc: bool,
}

fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

impl SysRoot {
    fn cpu_dir(&self) -> PathBuf {
        self.0.join("sys/devices/system/cpu")
    }

    fn list(&self, name: &str) -> Result<Vec<usize>, CpuListError> {
        read_opt(&self.cpu_dir().join(name)).map_or(Ok(Vec::new()), |t| parse_cpu_list(&t))
    }

    /// Reads everything [`CpuInfo`] holds.
    pub fn read(&self) -> Result<CpuInfo, CpuListError> {
        let online = self.list("online")?;
        let isolated = self.list("isolated")?;
        let nohz_full = self.list("nohz_full")?;
        let governors = online
            .iter()
            .filter_map(|&cpu| {
                let p = self
                    .cpu_dir()
                    .join(format!("cpu{cpu}/cpufreq/scaling_governor"));
                read_opt(&p).map(|g| (cpu, g.trim().to_owned()))
            })
            .collect();
        let clocksource = read_opt(
            &self
                .0
                .join("sys/devices/system/clocksource/clocksource0/current_clocksource"),
        )
        .map(|s| s.trim().to_owned());
        let flags = read_opt(&self.0.join("proc/cpuinfo"))
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("flags"))
                    .map(|l| l.to_owned())
            })
            .unwrap_or_default();
        let has = |f: &str| flags.split_whitespace().any(|w| w == f);
        Ok(CpuInfo {
            online,
            isolated,
            nohz_full,
            governors,
            clocksource,
            constant_tsc: has("constant_tsc"),
            nonstop_tsc: has("nonstop_tsc"),
        })
    }
}
