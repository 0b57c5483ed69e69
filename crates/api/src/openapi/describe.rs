//! What a handler's extractors say about its route: [`Describe`] is
//! implemented for every extractor the routes use, and for their tuples,
//! so [`super::Router`] reads access, body, query and path parameters
//! from the handler's signature instead of from a second description.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, web};
use schemars::JsonSchema;
use serde_json::{Value, json};
use uuid::Uuid;

use super::router::{Access, Shape, Signature};
use crate::ApiJson;
use crate::auth::extract::RequiredRole;
use crate::auth::{Authed, Caller};

/// An extractor's part of a route's [`Signature`].
pub trait Describe {
    /// Adds what this extractor reads to `signature`.
    fn describe(_signature: &mut Signature) {}
}

impl<T: ?Sized> Describe for web::Data<T> {}
impl Describe for HttpRequest {}
impl Describe for crate::client_ip::ClientIp {}

impl Describe for Caller {
    fn describe(signature: &mut Signature) {
        signature.access = Access::SignedIn;
    }
}

impl<R: RequiredRole> Describe for Authed<R> {
    fn describe(signature: &mut Signature) {
        signature.access = Access::Role(R::ROLE);
    }
}

impl<T: JsonSchema> Describe for ApiJson<T> {
    fn describe(signature: &mut Signature) {
        signature.body = Some((Shape::Typed(|g| g.subschema_for::<T>()), true));
    }
}

impl<T: JsonSchema> Describe for Option<ApiJson<T>> {
    fn describe(signature: &mut Signature) {
        signature.body = Some((Shape::Typed(|g| g.subschema_for::<T>()), false));
    }
}

impl<T: JsonSchema> Describe for crate::idempotent::KeyedJson<T> {
    fn describe(signature: &mut Signature) {
        signature.body = Some((Shape::Typed(|g| g.subschema_for::<T>()), true));
        signature.optional_idempotency_key = true;
    }
}

/// A body read raw: its [`super::Doc`] says what it holds.
impl Describe for web::Bytes {
    fn describe(signature: &mut Signature) {
        signature.body = Some((Shape::Written(|| json!(true)), false));
    }
}

impl Describe for Multipart {
    fn describe(signature: &mut Signature) {
        signature.multipart = true;
    }
}

impl<T: JsonSchema> Describe for web::Query<T> {
    fn describe(signature: &mut Signature) {
        signature.query = Some(|g| g.subschema_for::<T>());
    }
}

/// A path parameter's schema.
pub trait PathParam {
    /// Its schema.
    fn schema() -> Value;
}

impl PathParam for Uuid {
    fn schema() -> Value {
        json!({ "type": "string", "format": "uuid" })
    }
}

impl PathParam for String {
    fn schema() -> Value {
        json!({ "type": "string", "minLength": 1 })
    }
}

impl<T: PathParam> Describe for web::Path<T> {
    fn describe(signature: &mut Signature) {
        signature.path.push(T::schema());
    }
}

macro_rules! tuple {
    ($($name:ident),*) => {
        impl<$($name: Describe),*> Describe for ($($name,)*) {
            fn describe(signature: &mut Signature) {
                $($name::describe(signature);)*
            }
        }
    };
}

impl Describe for () {}
tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
tuple!(A, B, C, D, E);
tuple!(A, B, C, D, E, F);
