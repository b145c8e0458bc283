//! Gives the shared library a SONAME carrying the ABI's major version, so a
//! program linked against `libhealbot.so.0` never loads an incompatible one.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhealbot.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
