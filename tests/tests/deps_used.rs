//! Every dependency a crate declares is used by its code: a dependency nobody references
//! (once `tracing` in the CLI, `serde_json` in core) is dead weight in every build.

use std::path::{Path, PathBuf};

/// The workspace's crates (manifest directory relative to the root).
const CRATES: [&str; 9] = [
    "core",
    "feeds",
    "strategy",
    "gateway",
    "gateway/sim",
    "tools",
    "bench",
    "tests",
    "tests/support",
];

/// `(section, name)` of every dependency in the `[dependencies]` / `[dev-dependencies]` /
/// `[build-dependencies]` tables of a manifest.
fn dependencies(manifest: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_owned();
            continue;
        }
        if !section.ends_with("dependencies") || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line
            .split(['=', '.', ' '])
            .next()
            .unwrap_or_default()
            .trim();
        if !name.is_empty() {
            out.push((section.clone(), name.to_owned()));
        }
    }
    out
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Whether `text` refers to the crate `ident` (a path, a `use`, or an attribute).
fn mentions(text: &str, ident: &str) -> bool {
    text.match_indices(ident).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = &text[i + ident.len()..];
        let starts_word = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts_word
            && (after.starts_with("::") || after.starts_with(';') || after.starts_with(" as "))
    })
}

#[test]
fn every_declared_dependency_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut unused = Vec::new();
    for krate in CRATES {
        let dir = root.join(krate);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        // A nested crate's sources are not its parent's.
        let mut files = Vec::new();
        sources(&dir, &mut files);
        let nested: Vec<PathBuf> = CRATES
            .iter()
            .filter(|c| c.starts_with(krate) && **c != krate)
            .map(|c| root.join(c))
            .collect();
        let text: String = files
            .iter()
            .filter(|f| !nested.iter().any(|n| f.starts_with(n)))
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect();
        for (section, name) in dependencies(&manifest) {
            let ident = name.replace('-', "_");
            if !mentions(&text, &ident) {
                unused.push(format!("{krate} [{section}] {name}"));
            }
        }
    }
    assert!(unused.is_empty(), "declared but never used: {unused:#?}");
}

#[test]
fn the_check_sees_a_use_and_misses_a_name_in_passing() {
    assert!(mentions("use serde_json::Value;", "serde_json"));
    assert!(mentions("let v = tracing::info!(x);", "tracing"));
    assert!(!mentions(
        "// not serde_json here\nlet my_serde_json = 1;",
        "serde_json"
    ));
    let deps = dependencies(
        "[package]\nname = \"x\"\n[dependencies]\nfoo.workspace = true\nbar-baz = \"1\"\n[dev-dependencies]\nqux = { path = \"q\" }\n",
    );
    assert_eq!(
        deps,
        vec![
            ("dependencies".to_owned(), "foo".to_owned()),
            ("dependencies".to_owned(), "bar-baz".to_owned()),
            ("dev-dependencies".to_owned(), "qux".to_owned()),
        ]
    );
}
