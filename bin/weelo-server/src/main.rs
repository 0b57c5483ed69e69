//! `weelo-server`: serve (the default), `migrate` and exit, or the
//! operator's `kyc` decisions.

use clap::{Parser, Subcommand};
use uuid::Uuid;
use weelo_server::kyc::KycCommand;
use weelo_server::{Application, Settings, telemetry};

/// The weelo dispatch server.
///
/// Configuration: config/base.toml, then config/$APP_ENVIRONMENT.toml, then
/// APP_SECTION__KEY variables (APP_CONFIG_DIR names another folder).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP and realtime server (the default). SIGTERM drains,
    /// SIGINT stops at once.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Drivers' KYC: list those waiting, approve or reject one.
    #[command(subcommand)]
    Kyc(Kyc),
}

#[derive(Subcommand)]
enum Kyc {
    /// The drivers waiting for a decision.
    List,
    /// Approve a driver's documents.
    Approve {
        /// The driver's id.
        driver_id: Uuid,
    },
    /// Reject a driver's documents; the driver is told why.
    Reject {
        /// The driver's id.
        driver_id: Uuid,
        /// Why (up to 500 characters).
        #[arg(long)]
        reason: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    telemetry::init(&settings.log)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let applied =
                weelo_persistence::migrate::run_migrations_for(&settings.database).await?;
            tracing::info!(migrations.applied = applied, "database is up to date");
            Ok(())
        }
        Command::Kyc(kyc) => {
            let command = match kyc {
                Kyc::List => KycCommand::List,
                Kyc::Approve { driver_id } => KycCommand::Approve { driver_id },
                Kyc::Reject { driver_id, reason } => KycCommand::Reject { driver_id, reason },
            };
            weelo_server::kyc::run(&settings, command).await
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(
        environment = settings.environment.as_str(),
        "starting weelo-server"
    );
    let application = Application::build(settings).await?;
    application.run_until_stopped().await?;
    tracing::info!("weelo-server stopped");
    Ok(())
}
