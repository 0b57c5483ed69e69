//! Building and running the server: migrations, pools, the HTTP listener.
//! Tests call [`Application::build`] with port 0 and read [`Application::port`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use weelo_api::AppState;
use weelo_api::auth::{LoggingSmsSender, SmsProvider, SmsSender};
use weelo_api::client_ip::TrustedProxies;
use weelo_api::metrics::HttpMetrics;
use weelo_api::realtime::{HubSockets, TokenGate};
use weelo_api::state::AuthContext;
use weelo_cache::{Cache, TlsMode};
use weelo_dispatch::broadcast::DispatchJobs;
use weelo_dispatch::orders::Expiry;
use weelo_dispatch::places::PlacesMetrics;
use weelo_dispatch::presence::Presence;
use weelo_dispatch::pricing::Prices;
use weelo_dispatch::push::{PushMetrics, PushProvider};
use weelo_dispatch::relay::Relay;
use weelo_dispatch::supervisor::Supervisor;
use weelo_dispatch::{Dispatch, DispatchSettings, Providers};
use weelo_orders::{Clock, SystemClock};
use weelo_persistence::{build_pool, migrate::run_migrations_for};
use weelo_realtime::{EngineConfig, Hub, Realtime};

use crate::Settings;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    metrics_server: Option<Server>,
    expiry: Expiry,
    presence: Presence,
    jobs: DispatchJobs,
    supervisor: Supervisor,
    shutdown_grace: Duration,
}

/// `host:port/database` of a connection URL, without its credentials.
fn where_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, at)| at);
    rest.split('?').next().unwrap_or(rest).to_owned()
}

impl Application {
    /// Migrates (when configured), builds the pools and binds the listener.
    /// Nothing is served until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the given clock (tests pass a
    /// `ManualClock` to drive time-dependent rules).
    pub async fn build_with(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        settings.validate()?;
        if settings.server.migrate_on_start {
            run_migrations_for(&settings.database)
                .await
                .with_context(|| {
                    format!(
                        "PostgreSQL at {} (database.url, APP_DATABASE__URL; `make services` starts it)",
                        where_of(settings.database.url.expose_secret())
                    )
                })?;
        }
        let db = build_pool(&settings.database)?;
        let cache = Cache::connect(&settings.redis)?;
        let redis_at = where_of(settings.redis.url.expose_secret());
        if let Err(error) = cache.ping().await {
            tracing::warn!(redis.at = %redis_at, %error, "Redis is unreachable: running degraded (no shared presence, locks fall back to PostgreSQL) until it answers");
        }
        tracing::info!(
            redis.tls = cache.tls() == TlsMode::Tls,
            redis.key_prefix = cache.prefix(),
            "redis connections will use {}",
            match cache.tls() {
                TlsMode::Tls => "TLS (rediss://)",
                TlsMode::Plain => "plain TCP (redis://)",
            }
        );
        if settings.is_deployed() && settings.sms.provider == SmsProvider::Log {
            tracing::warn!(
                "THE LOGGING SMS SENDER IS ON: no OTP reaches a phone, nobody can log in \
                 (sms.allow_logging_sender = true)"
            );
        }
        if settings.is_deployed() && settings.push.provider == PushProvider::Log {
            tracing::warn!(
                "THE LOGGING PUSH PROVIDER IS ON: no push reaches a phone, drivers without a \
                 socket never hear of their trips (push.allow_log_provider = true)"
            );
        }
        let metrics = HttpMetrics::new()?;
        let push_metrics = PushMetrics::new()?;
        push_metrics.register(metrics.registry())?;
        let places_metrics = PlacesMetrics::new()?;
        places_metrics.register(metrics.registry())?;
        let push_sender = weelo_dispatch::push::sender_for(&settings.push)?;
        let hub = Hub::new(settings.realtime.socket_queue);
        let sms_sender: Arc<dyn SmsSender> =
            match weelo_api::auth::sender_for(&settings.sms).map_err(anyhow::Error::msg)? {
                Some(sender) => Arc::from(sender),
                None => Arc::new(LoggingSmsSender),
            };
        let auth = Arc::new(AuthContext::new(settings.auth.clone(), sms_sender));
        let storage = auth
            .keys
            .open_storage(settings.storage.clone())
            .map_err(|error| anyhow::anyhow!("{error} (storage.url, APP_STORAGE__URL)"))?;
        let prices = Prices {
            catalogue: settings.pricing.clone().ok_or_else(|| {
                anyhow::anyhow!("no rate card: config/pricing.toml is read at load")
            })?,
            seal: auth.keys.quote_seal(),
        };
        let dispatch = Dispatch::build(
            db,
            cache,
            clock,
            DispatchSettings {
                orders: settings.orders.clone(),
                presence: settings.presence.clone(),
                tracking: settings.tracking.clone(),
                push: settings.push.clone(),
                maps: settings.maps.clone(),
                kyc: settings.kyc.clone(),
            },
            Arc::new(HubSockets(hub.clone())),
            Providers {
                push_sender,
                push_metrics,
                places_metrics,
                storage,
            },
            prices,
        );
        let (expiry, presence) = (dispatch.expiry.clone(), dispatch.presence.clone());
        let state = AppState {
            dispatch,
            auth,
            metrics,
            hub: hub.clone(),
            limits: Arc::new(weelo_api::limits::UserLimits::new(settings.limits.clone())),
            trusted_proxies: Arc::new(
                TrustedProxies::parse(&settings.server.trusted_proxies)
                    .map_err(anyhow::Error::msg)?,
            ),
        };

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let proxies = state.trusted_proxies.clone();
        let client_address: weelo_realtime::session::ClientAddress =
            Arc::new(move |req| proxies.client_of(req));
        let realtime = Realtime::socket_io(
            hub.clone(),
            Arc::new(TokenGate::new(state.clone())),
            EngineConfig {
                ping_interval: Duration::from_millis(settings.realtime.ping_interval_ms),
                ping_timeout: Duration::from_millis(settings.realtime.ping_timeout_ms),
                max_payload: 1_000_000,
                connect_timeout: Duration::from_millis(settings.realtime.connect_timeout_ms),
                greeting_gap: Duration::ZERO,
            },
        )
        .with_limits(settings.realtime.limits(), client_address);
        state.metrics.watch_realtime(realtime.guard.clone());
        let realtime = web::Data::new(realtime);
        let relay = Relay::new(
            state.db.clone(),
            state.cache.clone(),
            state.sockets.clone(),
            state.clock.clone(),
            state.relay_wake.clone(),
            settings.realtime.liveness(),
        );
        let jobs = DispatchJobs::new(state.dispatch.clone());
        let supervisor = state.supervisor.clone();
        let background = state.dispatch.clone();
        let data = web::Data::new(state);
        let (metrics_server, metrics_port) = match &settings.metrics.listen {
            Some(address) => {
                let (server, port) = metrics_listener(address, data.clone())?;
                (Some(server), Some(port))
            }
            None => (None, None),
        };
        let metrics_public = settings.metrics.public;
        let hsts = settings.server.hsts;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(realtime.clone())
                .wrap(from_fn(weelo_api::middleware::observe_request))
                .wrap(security_headers(hsts))
                .configure(|cfg| {
                    if metrics_public {
                        weelo_api::routes::metrics::configure(cfg);
                    }
                })
                .configure(weelo_realtime::routes::configure)
                .configure(weelo_api::configure)
        })
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(30));
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.listen(listener)?.run();
        expiry.spawn_loops(&supervisor);
        jobs.spawn_loop(&supervisor);
        presence.spawn_tail(&supervisor);
        background.push.live.spawn_renewal(&supervisor);
        weelo_dispatch::push::worker::spawn(&background);
        relay.spawn(
            Duration::from_millis(settings.realtime.relay_interval_ms.max(5)),
            &supervisor,
        );
        tracing::info!(server.port = port, "weelo-server listening on port {port}");
        Ok(Self {
            port,
            metrics_port,
            server,
            metrics_server,
            expiry,
            presence,
            jobs,
            supervisor,
            shutdown_grace: Duration::from_secs(settings.server.shutdown_timeout_secs),
        })
    }

    /// The port actually bound (useful when the settings said 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `metrics.listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// This instance's presence.
    pub fn presence(&self) -> Presence {
        self.presence.clone()
    }

    /// The expiry jobs (tests run sweeps and cleanups through it).
    pub fn expiry(&self) -> Expiry {
        self.expiry.clone()
    }

    /// The dispatch sweeper (tests run sweeps through it).
    pub fn dispatch_jobs(&self) -> DispatchJobs {
        self.jobs.clone()
    }

    /// The owner of this instance's background work.
    pub fn supervisor(&self) -> Supervisor {
        self.supervisor.clone()
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM, SIGINT (or [`ServerHandle::stop`]). SIGTERM
    /// drains: in-flight requests get the configured grace period to
    /// finish; SIGINT (Ctrl-C) stops them at once (actix-server's signal
    /// handling). Then the background work is stopped and waited for (the relay's last pass
    /// sends what they committed, queued GPS points are written).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics_handle = self.metrics_server.as_ref().map(Server::handle);
        if let Some(metrics_server) = self.metrics_server {
            tokio::spawn(metrics_server);
        }
        let served = self.server.await;
        if let Some(handle) = metrics_handle {
            handle.stop(true).await;
        }
        self.supervisor.shutdown(self.shutdown_grace).await;
        served
    }
}

/// Headers every answer carries: no MIME sniffing, no referrer, and HSTS
/// when the service is only reached over TLS (`server.hsts`).
fn security_headers(hsts: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"));
    if hsts {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// A listener of its own for `GET /metrics` alone (one worker: a scraper
/// reads it every few seconds).
fn metrics_listener(address: &str, data: web::Data<AppState>) -> anyhow::Result<(Server, u16)> {
    let listener = TcpListener::bind(address)
        .map_err(|error| anyhow::anyhow!("metrics.listen `{address}`: {error}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(weelo_api::routes::metrics::configure)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(metrics.port = port, "metrics served on {address}");
    Ok((server, port))
}
