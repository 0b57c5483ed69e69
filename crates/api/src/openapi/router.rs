//! Every route of `/api/v1` is mounted through [`Router`], with its
//! [`Doc`]: what it is for and what it answers. The router reads the rest
//! from the handler's own signature ([`super::describe`]): who may call it,
//! its body, query and path parameters. So a route cannot be mounted
//! without being described, and the OpenAPI document is built from the
//! same list the server mounts ([`Router::mounted`]).

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, web};
use schemars::SchemaGenerator;
use serde_json::Value;
use weelo_dispatch::ErrorCode;

use super::describe::Describe;

/// A schema the document gets when it is built: written out, or read from
/// a type.
#[derive(Clone, Copy)]
pub enum Shape {
    /// A schema written in the route's [`Doc`].
    Written(fn() -> Value),
    /// The schema of a type, in the generator of its direction.
    Typed(fn(&mut SchemaGenerator) -> schemars::Schema),
}

/// What a route's description says beyond its signature.
#[derive(Clone)]
pub struct Doc {
    pub(crate) summary: &'static str,
    pub(crate) answer: Shape,
    pub(crate) status: u16,
    pub(crate) errors: Vec<ErrorCode>,
    pub(crate) body: Option<Shape>,
    pub(crate) multipart: Vec<(&'static str, bool)>,
    pub(crate) idempotency_key: bool,
    pub(crate) raw_answer: bool,
    pub(crate) flat_answer: bool,
    pub(crate) links: Vec<Link>,
}

/// An OpenAPI link: a value of this route's answer that another route
/// takes (what stateful tests follow).
#[derive(Clone, Copy)]
pub struct Link {
    /// The other route, `(method, path)` as mounted.
    pub to: (&'static str, &'static str),
    /// Its parameter.
    pub parameter: &'static str,
    /// Where the value is in this answer (`$response.body#/data/order/id`).
    pub from: &'static str,
}

impl Doc {
    /// A route answering `200 {"success": true, "data": <answer>}`.
    pub fn new(summary: &'static str, answer: fn() -> Value) -> Self {
        Self {
            summary,
            answer: Shape::Written(answer),
            status: 200,
            errors: Vec::new(),
            body: None,
            multipart: Vec::new(),
            idempotency_key: false,
            raw_answer: false,
            flat_answer: false,
            links: Vec::new(),
        }
    }

    /// A route whose `data` is the serialised `T`.
    pub fn typed<T: schemars::JsonSchema>(summary: &'static str) -> Self {
        let mut doc = Self::new(summary, Value::default);
        doc.answer = Shape::Typed(|generator| generator.subschema_for::<T>());
        doc
    }

    /// The success status, when not 200.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The refusals this route answers besides those of its signature
    /// (authentication, role, malformed input).
    pub fn errors(mut self, codes: &[ErrorCode]) -> Self {
        self.errors.extend_from_slice(codes);
        self
    }

    /// The JSON body, where the handler reads it as a plain JSON value.
    pub fn body(mut self, schema: fn() -> Value) -> Self {
        self.body = Some(Shape::Written(schema));
        self
    }

    /// The JSON body as the type `T` describes it.
    pub fn body_typed<T: schemars::JsonSchema>(mut self) -> Self {
        self.body = Some(Shape::Typed(|generator| generator.subschema_for::<T>()));
        self
    }

    /// The parts of a multipart form: (name, is a file).
    pub fn form(mut self, parts: &[(&'static str, bool)]) -> Self {
        self.multipart.extend_from_slice(parts);
        self
    }

    /// The route needs `X-Idempotency-Key`.
    pub fn idempotent(mut self) -> Self {
        self.idempotency_key = true;
        self
    }

    /// The answer's fields sit beside `success`, with no `data` (the
    /// captain app's shape for a few lists).
    pub fn flat(mut self) -> Self {
        self.flat_answer = true;
        self
    }

    /// Links from this answer's `from` to `parameter` of each of `to`.
    pub fn links(
        mut self,
        parameter: &'static str,
        from: &'static str,
        to: &[(&'static str, &'static str)],
    ) -> Self {
        for target in to {
            self.links.push(Link {
                to: *target,
                parameter,
                from,
            });
        }
        self
    }

    /// The answer is not the JSON envelope (a file's bytes).
    pub fn raw(mut self) -> Self {
        self.raw_answer = true;
        self
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Users of one role.
    Role(weelo_orders::Role),
}

/// What the handler's signature says.
#[derive(Clone)]
pub struct Signature {
    /// Who may call it.
    pub access: Access,
    /// Its JSON body, required or not.
    pub body: Option<(Shape, bool)>,
    /// Its multipart form.
    pub multipart: bool,
    /// Its query, as the type reads it.
    pub query: Option<fn(&mut SchemaGenerator) -> schemars::Schema>,
    /// Its path parameters' schemas, in order.
    pub path: Vec<Value>,
    /// It takes `X-Idempotency-Key` when sent (retries replay).
    pub optional_idempotency_key: bool,
}

impl Default for Signature {
    fn default() -> Self {
        Self {
            access: Access::Public,
            body: None,
            multipart: false,
            query: None,
            path: Vec::new(),
            optional_idempotency_key: false,
        }
    }
}

/// A mounted route.
#[derive(Clone)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path under `/api/v1`, as actix matches it (`/orders/{id}`).
    pub path: &'static str,
    /// The area it belongs to (the document's tag).
    pub area: &'static str,
    /// Its description.
    pub doc: Doc,
    /// What its handler's signature says.
    pub signature: Signature,
}

/// Mounts routes and keeps their descriptions.
pub struct Router<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    area: &'static str,
    routes: Vec<Route>,
}

macro_rules! method {
    ($name:ident, $method:ident, $route:ident) => {
        #[doc = concat!("Mounts `", stringify!($method), " path` on `handler`.")]
        pub fn $name<F, Args>(&mut self, path: &'static str, handler: F, doc: Doc) -> &mut Self
        where
            F: Handler<Args>,
            Args: FromRequest + Describe + 'static,
            F::Output: Responder + 'static,
        {
            if let Some(cfg) = self.cfg.as_deref_mut() {
                cfg.route(path, web::$route().to(handler));
            }
            let mut signature = Signature::default();
            Args::describe(&mut signature);
            self.routes.push(Route {
                method: Method::$method,
                path,
                area: self.area,
                doc,
                signature,
            });
            self
        }
    };
}

impl<'a> Router<'a> {
    /// A router mounting on `cfg`.
    pub fn mounting(cfg: &'a mut web::ServiceConfig) -> Self {
        Self {
            cfg: Some(cfg),
            area: "",
            routes: Vec::new(),
        }
    }

    /// A router that only lists (for the document).
    pub fn listing() -> Self {
        Self {
            cfg: None,
            area: "",
            routes: Vec::new(),
        }
    }

    /// The routes that follow belong to `area`.
    pub fn area(&mut self, area: &'static str) -> &mut Self {
        self.area = area;
        self
    }

    method!(get, GET, get);
    method!(post, POST, post);
    method!(put, PUT, put);
    method!(patch, PATCH, patch);
    method!(delete, DELETE, delete);

    /// The routes mounted so far.
    pub fn mounted(self) -> Vec<Route> {
        self.routes
    }
}
