//! `weelo-server`: serve (the default) or `migrate` and exit.

use weelo_server::{Application, Settings, telemetry};

const USAGE: &str = "usage: weelo-server [serve | migrate | kyc …]

  serve    run the HTTP and realtime server (default)
  migrate  apply pending database migrations and exit
  kyc list                              drivers waiting for a KYC decision
  kyc approve <driverId>                approve a driver's documents
  kyc reject <driverId> --reason \"…\"   reject them (the driver is told why)

Configuration: config/base.toml, config/$APP_ENVIRONMENT.toml, APP_SECTION__KEY variables.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    if matches!(command.as_deref(), Some("-h" | "--help" | "help")) {
        println!("{USAGE}");
        return Ok(());
    }
    let settings = Settings::from_env()?;
    telemetry::init(&settings.log)?;
    match command.as_deref() {
        None | Some("serve") => serve(settings).await,
        Some("migrate") => {
            let applied =
                weelo_persistence::migrate::run_migrations_for(&settings.database).await?;
            tracing::info!(migrations.applied = applied, "database is up to date");
            Ok(())
        }
        Some("kyc") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            weelo_server::kyc::run(&settings, &args).await
        }
        Some(other) => anyhow::bail!("unknown command `{other}`\n\n{USAGE}"),
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
