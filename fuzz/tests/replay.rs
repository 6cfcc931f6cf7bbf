//! `make check`: every file of corpus/<target>/ (minimized fuzzer
//! corpus), seeds/<target>/ (hand-written) and regress/<target>/
//! (reproducers of findings) through the same body and invariants as the
//! fuzzer uses, on stable, without libFuzzer.
use std::path::Path;

#[test]
fn replay_corpora() {
    // FUZZ_CORPUS_DIR: replay another tree of the same layout (triage).
    let root = std::env::var_os("FUZZ_CORPUS_DIR").map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(), std::path::PathBuf::from);
    let mut total = 0;
    // FUZZ_REPLAY_TARGET=name replays one corpus only.
    let only = std::env::var("FUZZ_REPLAY_TARGET").ok();
    for (name, run) in microhttpd_fuzz::TARGETS {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let dir = root.join("corpus").join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_file())
            .collect();
        assert!(!files.is_empty(), "{}: empty corpus", dir.display());
        for extra in ["seeds", "regress"] {
            if let Ok(rd) = std::fs::read_dir(root.join(extra).join(name)) {
                files.extend(rd.map(|e| e.expect("dir entry").path()).filter(|p| p.is_file()));
            }
        }
        files.sort();
        for f in &files {
            // A file a running fuzzer just replaced is skipped.
            let data = match std::fs::read(f) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                r => r.expect("read"),
            };
            let r = std::panic::catch_unwind(|| run(&data));
            assert!(r.is_ok(), "{name}: {} breaks an invariant", f.display());
        }
        eprintln!("{name}: {} inputs", files.len());
        total += files.len();
    }
    assert!(total > 0);
}
