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

/// A KYC command, as the command line parsed it.
#[derive(Debug, Clone)]
pub enum KycCommand {
    /// The drivers waiting for a decision.
    List,
    /// Approve a driver.
    Approve {
        /// The driver.
        driver_id: Uuid,
    },
    /// Reject a driver, saying why.
    Reject {
        /// The driver.
        driver_id: Uuid,
        /// Why.
        reason: String,
    },
}

/// Runs `command`; prints what it did.
pub async fn run(settings: &Settings, command: KycCommand) -> anyhow::Result<()> {
    let pool = build_pool(&settings.database)?;
    let mut conn = pool.get().await.context("connecting to PostgreSQL")?;
    let (driver, approve, reason) = match command {
        KycCommand::List => {
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
            return Ok(());
        }
        KycCommand::Approve { driver_id } => (driver_id, true, None),
        KycCommand::Reject { driver_id, reason } => {
            let reason: String = reason.trim().chars().take(500).collect();
            if reason.is_empty() {
                bail!("a rejection needs --reason \"…\" (the driver is told it)");
            }
            (driver_id, false, Some(reason))
        }
    };
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
