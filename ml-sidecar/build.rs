//! Records torch's `lib` folder as the binary's run-time search path (rpath), so `kestrel-ml`
//! runs without `LD_LIBRARY_PATH`. The folder comes from `KESTREL_TORCH_LIB` (set by
//! `scripts/libtorch.sh`) or, failing that, from the virtualenv's python (as torch-sys finds it
//! with `LIBTORCH_USE_PYTORCH=1`), or from `LIBTORCH/lib`.

use std::path::PathBuf;
use std::process::Command;

fn torch_lib_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("KESTREL_TORCH_LIB") {
        return Some(PathBuf::from(dir));
    }
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        let python = if std::env::var_os("VIRTUAL_ENV").is_some() {
            "python"
        } else {
            "python3"
        };
        let out = Command::new(python)
            .arg("-c")
            .arg("import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        let line = text.trim();
        return (!line.is_empty()).then(|| PathBuf::from(line));
    }
    std::env::var("LIBTORCH")
        .ok()
        .map(|d| PathBuf::from(d).join("lib"))
}

fn main() {
    println!("cargo:rerun-if-env-changed=KESTREL_TORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH_USE_PYTORCH");
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Some(dir) = torch_lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
