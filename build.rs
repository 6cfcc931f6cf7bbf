//! Build script:
//! 1. generates the C header from src/ffi/ with cbindgen (config in
//!    include/cbindgen.toml, trailer in include/trailer.h, string macros
//!    from src/ffi/names.rs) into $OUT_DIR/microhttpd.h and
//!    <target>/<profile>/include/microhttpd.h (`make header` copies it to include/);
//! 2. compiles the C shim (src/shim/variadics.c) against that header;
//! 3. passes the cdylib link arguments: soname, exported shim symbols, and
//!    the version script that exports exactly `MHD_*`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Functions defined in the C shim; they must be forced into the .so.
const SHIM_EXPORTS: &[&str] = &[
    "MHD_start_daemon",
    "MHD_start_daemon_va",
    "MHD_get_connection_info",
    "MHD_get_daemon_info",
    "MHD_set_connection_option",
    "MHD_set_response_options",
    "MHD_upgrade_action",
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));

    for p in ["src/ffi", "src/shim", "include/cbindgen.toml", "include/trailer.h", "build.rs"] {
        println!("cargo:rerun-if-changed={}", manifest.join(p).display());
    }

    let header = generate_header(&manifest);
    let generated = out_dir.join("microhttpd.h");
    write_if_changed(&generated, &header);
    // <target>/<profile>/build/<pkg>-<hash>/out -> <target>/<profile>/include
    if let Some(profile_dir) = out_dir.ancestors().nth(3) {
        let inc = profile_dir.join("include");
        let _ = fs::create_dir_all(&inc);
        write_if_changed(&inc.join("microhttpd.h"), &header);
    }

    cc::Build::new()
        .file(manifest.join("src/shim/variadics.c"))
        .include(&out_dir)
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("mhd_shim");

    // Link arguments for the shared library only.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmicrohttpd.so.12");
    for sym in SHIM_EXPORTS {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--undefined={sym}");
    }
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        manifest.join("src/ffi/exports.map").display()
    );
    println!("cargo:rerun-if-changed={}", manifest.join("src/ffi/exports.map").display());
}

/// Run cbindgen over the files of src/ffi/ only, then append the trailer and
/// the string constants.
fn generate_header(manifest: &Path) -> String {
    let mut config = cbindgen::Config::from_file(manifest.join("include/cbindgen.toml"))
        .expect("include/cbindgen.toml");

    let trailer = fs::read_to_string(manifest.join("include/trailer.h")).expect("include/trailer.h");
    let names = fs::read_to_string(manifest.join("src/ffi/names.rs")).expect("src/ffi/names.rs");
    let mut t = trailer;
    t.push_str("\n/* String constants (src/ffi/names.rs). */\n");
    for (name, value) in string_consts(&names) {
        t.push_str(&format!("#define {name} \"{value}\"\n"));
    }
    config.trailer = Some(t);

    // Parse src/ffi/mod.rs and the modules it declares, not the whole crate:
    // constants of the runtime must not leak into the header.
    let builder = cbindgen::Builder::new()
        .with_config(config)
        .with_src(manifest.join("src/ffi/mod.rs"));
    let bindings = builder.generate().expect("cbindgen failed to generate microhttpd.h");
    let mut buf = Vec::new();
    bindings.write(&mut buf);
    String::from_utf8(buf).expect("header is UTF-8")
}

/// Lines of the exact form `pub const NAME: &str = "value";`.
fn string_consts(src: &str) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for line in src.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("pub const ") else { continue };
        let Some((name, rest)) = rest.split_once(": &str = \"") else { continue };
        let Some(value) = rest.strip_suffix("\";") else { continue };
        assert!(
            !value.contains('\\') && !value.contains('"'),
            "names.rs: escapes are not supported in {name}"
        );
        v.push((name.to_string(), value.to_string()));
    }
    v
}

fn write_if_changed(path: &Path, content: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(content) {
        fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}
