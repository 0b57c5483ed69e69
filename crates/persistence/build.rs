//! Rebuild when a migration changes: they are embedded at compile time
//! (`migrations` is a link to the workspace's `migrations/`, so the
//! package carries them).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
