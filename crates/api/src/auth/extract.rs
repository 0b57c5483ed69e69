//! The extractors: [`Caller`] proves the bearer token (signature, expiry,
//! live session in PostgreSQL) and [`Authed`] adds a role guard, so a
//! handler's signature says who may call it.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use uuid::Uuid;
use weelo_dispatch::accounts::sessions;

use super::tokens::TokenError;
use super::{AuthError, Role};
use crate::{ApiError, AppState};

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The user id.
    pub user_id: Uuid,
    /// The role the token was issued for.
    pub role: Role,
    /// The login session.
    pub session_id: Uuid,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            authenticate(&state, token.as_deref()).await
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

/// Checks `token` and that its session is still live.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<Caller, ApiError> {
    let token = token.ok_or(AuthError::MissingToken)?;
    let now = state.clock.now();
    let claims = state
        .auth
        .keys
        .verify_access(token, now)
        .map_err(|error| match error {
            TokenError::Invalid => AuthError::InvalidToken,
            TokenError::Expired => AuthError::TokenExpired,
        })?;
    if !state.auth.sessions.is_live(claims.sid, claims.sub, now) {
        let live = sessions::is_live(&state.dispatch, claims.sid, claims.sub).await?;
        if !live {
            return Err(AuthError::SessionEnded.into());
        }
        state.auth.sessions.remember(claims.sid, claims.sub, now);
    }
    Ok(Caller {
        user_id: claims.sub,
        role: claims.role,
        session_id: claims.sid,
        expires_at: claims.exp,
    })
}

/// A role a route is reserved for.
pub trait RequiredRole {
    /// The role.
    const ROLE: Role;
}

/// Customers only.
#[derive(Debug)]
pub struct CustomerRole;
impl RequiredRole for CustomerRole {
    const ROLE: Role = Role::Customer;
}

/// Transporters only.
#[derive(Debug)]
pub struct TransporterRole;
impl RequiredRole for TransporterRole {
    const ROLE: Role = Role::Transporter;
}

/// Drivers only.
#[derive(Debug)]
pub struct DriverRole;
impl RequiredRole for DriverRole {
    const ROLE: Role = Role::Driver;
}

/// A caller of the role `R`; anyone else gets 403.
#[derive(Debug)]
pub struct Authed<R: RequiredRole> {
    /// The caller.
    pub caller: Caller,
    role: PhantomData<R>,
}

impl<R: RequiredRole> Authed<R> {
    /// The caller's user id.
    pub fn user_id(&self) -> Uuid {
        self.caller.user_id
    }
}

impl<R: RequiredRole + 'static> FromRequest for Authed<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.role != R::ROLE {
                return Err(AuthError::WrongRole(R::ROLE).into());
            }
            Ok(Self {
                caller,
                role: PhantomData,
            })
        })
    }
}
