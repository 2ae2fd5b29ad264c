//! `kestrel sysinfo`: what this host offers a low-latency run: cores, isolation, governors,
//! the clock source and TSC, and where the configuration would pin each stage.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use kestrel_core::clock::TscClock;
use kestrel_core::cpu::{CpuInfo, SysRoot, allowed_cores, check_placement};

use crate::session::RunConfig;
use crate::session::run::placement_plan;

/// `kestrel sysinfo`.
#[derive(Debug, Args)]
pub struct SysinfoArgs {
    /// Config whose `[cpu]` placement to check.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Root of the sysfs/procfs tree to read (testing).
    #[arg(long, hide = true, default_value = "/")]
    pub sys_root: PathBuf,
}

fn list(cpus: &[usize]) -> String {
    if cpus.is_empty() {
        "none".to_owned()
    } else {
        cpus.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Compares the TSC clock with the OS monotonic clock over `over`; returns the ratio
/// (1.0 = perfect calibration).
fn tsc_ratio(over: Duration) -> f64 {
    let tsc = TscClock::new();
    let t0 = tsc.elapsed_ns();
    let start = Instant::now();
    std::thread::sleep(over);
    let os = start.elapsed().as_nanos() as f64;
    let measured = tsc.elapsed_ns().saturating_sub(t0) as f64;
    if os > 0.0 { measured / os } else { 0.0 }
}

/// The report text.
pub fn report(info: &CpuInfo, allowed: Option<&[usize]>, config: &RunConfig, tsc: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "cores online      {}", list(&info.online));
    if let Some(a) = allowed {
        let _ = writeln!(out, "cores allowed     {} (this process)", list(a));
    }
    let _ = writeln!(out, "isolated          {}", list(&info.isolated));
    let _ = writeln!(out, "nohz_full         {}", list(&info.nohz_full));
    if info.governors.is_empty() {
        let _ = writeln!(out, "governor          unknown (no cpufreq)");
    } else {
        let mut by: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (cpu, g) in &info.governors {
            by.entry(g.as_str()).or_default().push(*cpu);
        }
        for (g, cpus) in by {
            let _ = writeln!(out, "governor          {g} on {}", list(&cpus));
        }
    }
    let _ = writeln!(
        out,
        "clocksource       {}",
        info.clocksource.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(
        out,
        "tsc               constant_tsc={} nonstop_tsc={} quanta/os ratio {tsc:.4}",
        info.constant_tsc, info.nonstop_tsc
    );
    let plan = placement_plan(config);
    if plan.is_empty() {
        let _ = writeln!(out, "placement         no [cpu] pins: threads float");
    }
    for p in &plan {
        let _ = writeln!(
            out,
            "placement         {:<9} -> core {:<3} isolated={} nohz_full={} busy_spin={}",
            p.stage,
            p.core,
            info.isolated.contains(&p.core),
            info.nohz_full.contains(&p.core),
            p.busy_spin
        );
    }
    match check_placement(&plan, info, config.cpu.require_isolated) {
        Ok(w) if w.is_empty() => {
            let _ = writeln!(out, "verdict           ok");
        }
        Ok(w) => {
            for w in w {
                let _ = writeln!(out, "warning           {w}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "refused           {e}");
        }
    }
    out
}

impl SysinfoArgs {
    /// Prints the report.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = RunConfig::load(self.config.as_deref())?;
        let info = SysRoot(self.sys_root).read()?;
        let allowed = allowed_cores();
        print!(
            "{}",
            report(
                &info,
                allowed.as_deref(),
                &config,
                tsc_ratio(Duration::from_millis(100))
            )
        );
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_shows_placement_against_isolation() {
        let info = CpuInfo {
            online: vec![0, 1, 2, 3],
            isolated: vec![2, 3],
            nohz_full: vec![3],
            governors: [(2, "performance".to_owned())].into_iter().collect(),
            clocksource: Some("tsc".into()),
            constant_tsc: true,
            nonstop_tsc: true,
        };
        let config = RunConfig::parse(
            "[pipeline]\nconsumer_wait = { kind = \"busy_spin\" }\n[cpu]\nfeed = 1\nconsumer = 3\n",
        )
        .unwrap();
        let text = report(&info, Some(&[0, 1, 2, 3]), &config, 1.0);
        assert!(text.contains("isolated          2,3"), "{text}");
        assert!(
            text.contains("consumer  -> core 3   isolated=true nohz_full=true busy_spin=true"),
            "{text}"
        );
        assert!(
            text.contains("feed      -> core 1   isolated=false"),
            "{text}"
        );
        assert!(
            text.contains(
                "warning           stage feed is pinned to core 1, which is not isolated"
            ),
            "{text}"
        );
        assert!(
            text.contains("governor          performance on 2"),
            "{text}"
        );
    }

    #[test]
    fn tsc_agrees_with_the_os_clock() {
        let r = tsc_ratio(Duration::from_millis(30));
        assert!((0.8..1.25).contains(&r), "{r}");
    }
}
