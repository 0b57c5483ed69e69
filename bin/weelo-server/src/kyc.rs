//! `weelo-server kyc list | approve <driverId> | reject <driverId> --reason
//! "…"`: the operator's KYC decisions, each written with its audit row and
//! `driver_verification_changed` in one transaction.

use anyhow::{Context, bail};
use uuid::Uuid;
use weelo_persistence::{build_pool, documents};

use crate::Settings;

/// Who decides, for the audit row: `$USER` on the operator's machine.
fn actor() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .map_or_else(|| "cli".to_owned(), |u| format!("cli:{u}"))
}

/// Runs `args` (after `kyc`); prints what it did.
pub async fn run(settings: &Settings, args: &[String]) -> anyhow::Result<()> {
    let pool = build_pool(&settings.database)?;
    let mut conn = pool.get().await.context("connecting to PostgreSQL")?;
    match args.first().map(String::as_str) {
        Some("list") => {
            let pending = documents::pending_drivers(&mut conn).await?;
            println!("{} driver(s) waiting for a KYC decision", pending.len());
            for (id, name, transporter, since) in pending {
                println!(
                    "{id}\t{}\ttransporter {}\tsince {}",
                    name.unwrap_or_default(),
                    transporter.map_or_else(|| "-".to_owned(), |t| t.to_string()),
                    since.to_rfc3339()
                );
            }
            Ok(())
        }
        Some(word @ ("approve" | "reject")) => {
            let driver: Uuid = args
                .get(1)
                .context("which driver? kyc approve|reject <driverId>")?
                .parse()
                .context("the driver id is a UUID")?;
            let reason = match args.get(2..).unwrap_or_default() {
                [] => None,
                [flag, reason] if flag == "--reason" && !reason.trim().is_empty() => {
                    Some(reason.trim().chars().take(500).collect::<String>())
                }
                _ => bail!("usage: kyc {word} <driverId> [--reason \"…\"]"),
            };
            let approve = word == "approve";
            if !approve && reason.is_none() {
                bail!("a rejection needs --reason \"…\" (the driver is told it)");
            }
            let decided = weelo_dispatch::documents::kyc::decide(
                &mut conn,
                driver,
                approve,
                reason.as_deref(),
                &actor(),
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            if !decided {
                bail!("no driver {driver} with a completed profile");
            }
            println!(
                "driver {driver}: {}",
                if approve { "approved" } else { "rejected" }
            );
            Ok(())
        }
        _ => bail!(
            "usage: weelo-server kyc list | approve <driverId> | reject <driverId> --reason \"…\""
        ),
    }
}
