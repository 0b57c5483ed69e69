//! The README's "Try it" walkthrough, run as written against a server of
//! the test's own: its shell block (with this server's address) in bash,
//! and its Socket.IO snippet in node, connected before the order as the
//! README says. The transporter's snippet must print the offer, and the
//! order's status must come back.

use std::time::Duration;

use crate::helpers::spawn_app;

/// The first fenced block of `lang` after `heading` in the README.
fn block(readme: &str, heading: &str, lang: &str) -> String {
    let section = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}"))..];
    let fence = format!("```{lang}\n");
    let start = section
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block"))
        + fence.len();
    let end = section[start..]
        .find("```")
        .unwrap_or_else(|| panic!("unclosed block"));
    section[start..start + end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_works_as_written() {
    let app = spawn_app().await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap_or_default();
    let shell = block(&readme, "## Try it", "sh").replace("http://127.0.0.1:3000", &app.address);
    let snippet = block(&readme, "## Try it", "js").replace("http://127.0.0.1:3000", &app.address);
    let (before, after) = shell
        .split_once("\n# 2.")
        .unwrap_or_else(|| panic!("the walkthrough's step 2 is gone"));
    let folder = weelo_test_support::TestFolder::new("readme").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(folder.path().join("offer.cjs"), snippet).unwrap_or_else(|e| panic!("{e}"));
    // The README's steps, with the snippet started where it says: after
    // step 1, before the order.
    let script = format!(
        "set -euo pipefail\ncd {dir}\n{before}\n\
         T=$T node offer.cjs > offer.log 2>&1 &\n\
         for _ in $(seq 1 100); do grep -q connected offer.log && break; sleep 0.1; done\n\
         # 2.{after}\n\
         for _ in $(seq 1 100); do grep -q '^offer' offer.log && break; sleep 0.1; done\n\
         cat offer.log\nkill %1 2>/dev/null || true\n",
        dir = folder.path().display()
    );
    let run = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("NODE_PATH", format!("{root}/tests/node/node_modules"))
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("the walkthrough hung"))
    .unwrap_or_else(|e| panic!("bash does not run: {e}"));
    let output = String::from_utf8_lossy(&run.stdout).into_owned();
    let errors = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{output}\n{errors}");
    // Step 3 printed the status; the transporter's socket heard the offer.
    assert!(output.contains("\"status\""), "{output}");
    let offer = output
        .lines()
        .find(|line| line.starts_with("offer "))
        .unwrap_or_else(|| panic!("no offer heard: {output}"));
    assert!(
        offer.contains("24000") && offer.contains("min away"),
        "{offer}"
    );
}
