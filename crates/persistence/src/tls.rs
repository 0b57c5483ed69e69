//! Connections to PostgreSQL, over TLS when the URL asks for it
//! (`sslmode=require`; `prefer` tries TLS first). As libpq's `require`,
//! the server's certificate is not checked unless `database.tls_root_cert`
//! names the CA (or self-signed certificate) to check it, and its host name,
//! against. TLS is the system OpenSSL's (native-tls), as for `rediss://`.

use std::sync::Arc;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use tokio_postgres::config::SslMode;

use crate::PersistenceError;

/// How this service connects: its TLS connector, when the URL wants TLS.
#[derive(Clone)]
pub struct Connector {
    tls: Option<postgres_native_tls::MakeTlsConnector>,
}

impl Connector {
    /// The connector for `url`; `root_cert` is the PEM to check the server
    /// against (none: encrypt without checking, as libpq's `require`).
    pub fn for_url(url: &str, root_cert: Option<&[u8]>) -> Result<Self, PersistenceError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| PersistenceError::Config(format!("database.url: {e}")))?;
        if config.get_ssl_mode() == SslMode::Disable {
            return Ok(Self { tls: None });
        }
        let mut builder = native_tls::TlsConnector::builder();
        match root_cert {
            Some(pem) => {
                let certificate = native_tls::Certificate::from_pem(pem).map_err(|e| {
                    PersistenceError::Config(format!("database.tls_root_cert: {e}"))
                })?;
                builder.add_root_certificate(certificate);
            }
            None => {
                builder.danger_accept_invalid_certs(true);
            }
        }
        let connector = builder
            .build()
            .map_err(|e| PersistenceError::Config(format!("TLS to PostgreSQL: {e}")))?;
        Ok(Self {
            tls: Some(postgres_native_tls::MakeTlsConnector::new(connector)),
        })
    }

    /// Whether connections are encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Opens one connection to `url`.
    pub async fn connect(&self, url: &str) -> Result<AsyncPgConnection, ConnectionError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| ConnectionError::BadConnection(e.to_string()))?;
        // The connect error keeps its cause ("Connection refused") in the
        // text, which start-up shows.
        let refused = |e: tokio_postgres::Error| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            ConnectionError::BadConnection(text)
        };
        match &self.tls {
            Some(tls) => {
                let (client, connection) = config.connect(tls.clone()).await.map_err(refused)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            None => {
                let (client, connection) = config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(refused)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }

    /// The pool's way to open connections.
    pub(crate) fn setup(self) -> diesel_async::pooled_connection::SetupCallback<AsyncPgConnection> {
        let this = Arc::new(self);
        Box::new(move |url| {
            let this = Arc::clone(&this);
            let url = url.to_owned();
            Box::pin(async move { this.connect(&url).await })
        })
    }
}

/// The connector the settings ask for (reading the root certificate file).
pub fn connector(settings: &crate::DatabaseSettings) -> Result<Connector, PersistenceError> {
    use secrecy::ExposeSecret;
    let root_cert = match &settings.tls_root_cert {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            PersistenceError::Config(format!("database.tls_root_cert `{path}`: {e}"))
        })?),
        None => None,
    };
    Connector::for_url(settings.url.expose_secret(), root_cert.as_deref())
}
