//! `weelo-server`: serve (the default) or `migrate` and exit.

use weelo_server::{Application, Settings, telemetry};

const USAGE: &str = "usage: weelo-server [serve | migrate]

  serve    run the HTTP and realtime server (default)
  migrate  apply pending database migrations and exit

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
