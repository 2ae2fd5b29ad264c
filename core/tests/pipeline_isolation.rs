//! CPU isolation checks against fake sysfs trees.

use std::fs;
use std::path::Path;

use kestrel_core::cpu::{IsolationWarning, StagePlacement, SysRoot, check_placement};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn fake_host(isolated: &str, nohz: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "sys/devices/system/cpu/online", "0-7\n");
    write(r, "sys/devices/system/cpu/isolated", isolated);
    write(r, "sys/devices/system/cpu/nohz_full", nohz);
    write(
        r,
        "sys/devices/system/cpu/cpu2/cpufreq/scaling_governor",
        "performance\n",
    );
    write(
        r,
        "sys/devices/system/cpu/cpu3/cpufreq/scaling_governor",
        "powersave\n",
    );
    write(
        r,
        "sys/devices/system/clocksource/clocksource0/current_clocksource",
        "tsc\n",
    );
    write(
        r,
        "proc/cpuinfo",
        "processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc rdtscp\n",
    );
    dir
}

fn place(stage: &str, core: usize, busy_spin: bool) -> StagePlacement {
    StagePlacement {
        stage: stage.to_owned(),
        core,
        busy_spin,
    }
}

#[test]
fn reads_the_fake_tree() {
    let dir = fake_host("2-3\n", "2-3\n");
    let info = SysRoot(dir.path().to_path_buf()).read().unwrap();
    assert_eq!(info.online, (0..8).collect::<Vec<_>>());
    assert_eq!(info.isolated, vec![2, 3]);
    assert_eq!(info.nohz_full, vec![2, 3]);
    assert_eq!(
        info.governors.get(&2).map(String::as_str),
        Some("performance")
    );
    assert_eq!(
        info.governors.get(&3).map(String::as_str),
        Some("powersave")
    );
    assert_eq!(info.clocksource.as_deref(), Some("tsc"));
    assert!(info.constant_tsc && info.nonstop_tsc);
}

#[test]
fn isolated_placement_passes_even_when_required() {
    let dir = fake_host("2-3\n", "2-3\n");
    let info = SysRoot(dir.path().to_path_buf()).read().unwrap();
    let plan = [place("feed", 2, true), place("consumer", 3, true)];
    assert_eq!(check_placement(&plan, &info, true).unwrap(), vec![]);
}

#[test]
fn non_isolated_core_warns_or_refuses() {
    let dir = fake_host("3\n", "\n");
    let info = SysRoot(dir.path().to_path_buf()).read().unwrap();
    let plan = [place("feed", 2, false), place("consumer", 3, false)];
    let warnings = check_placement(&plan, &info, false).unwrap();
    assert!(warnings.contains(&IsolationWarning::NotIsolated {
        stage: "feed".into(),
        core: 2
    }));
    assert!(!warnings.contains(&IsolationWarning::NotIsolated {
        stage: "consumer".into(),
        core: 3
    }));
    assert!(warnings.contains(&IsolationWarning::NotNohzFull {
        stage: "consumer".into(),
        core: 3
    }));
    let err = check_placement(&plan, &info, true).unwrap_err();
    assert!(
        err.to_string().contains("core 2, which is not isolated"),
        "{err}"
    );
}

#[test]
fn busy_spinners_sharing_a_core_are_caught() {
    let dir = fake_host("2-3\n", "2-3\n");
    let info = SysRoot(dir.path().to_path_buf()).read().unwrap();
    let plan = [place("feed", 2, true), place("consumer", 2, true)];
    let err = check_placement(&plan, &info, true).unwrap_err();
    assert_eq!(
        err.problems,
        vec![IsolationWarning::SharedSpin {
            first: "feed".into(),
            second: "consumer".into(),
            core: 2
        }]
    );
    // Sharing is fine when at most one of them spins.
    let plan = [place("feed", 2, true), place("consumer", 2, false)];
    assert!(check_placement(&plan, &info, true).unwrap().is_empty());
}

#[test]
fn offline_core_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sys/devices/system/cpu/online", "0-1\n");
    let info = SysRoot(dir.path().to_path_buf()).read().unwrap();
    assert!(info.isolated.is_empty() && info.clocksource.is_none() && !info.constant_tsc);
    let warnings = check_placement(&[place("feed", 5, false)], &info, false).unwrap();
    assert!(warnings.contains(&IsolationWarning::Offline {
        stage: "feed".into(),
        core: 5
    }));
}

#[test]
fn malformed_isolated_list_is_an_error() {
    let dir = fake_host("2-x\n", "\n");
    assert!(SysRoot(dir.path().to_path_buf()).read().is_err());
}
