//! The HTTP side: `/socket.io/` with `EIO=4&transport=websocket` upgrades to
//! a session; any other transport or version is a 400 in Engine.IO's words.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::session::{self, Realtime};

/// Mounts `/socket.io/`; `realtime` must be registered as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/socket.io/", web::get().to(socket_io));
}

fn engine_error(code: u8, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "code": code, "message": message }))
}

async fn socket_io(
    req: HttpRequest,
    body: web::Payload,
    realtime: web::Data<Realtime>,
) -> actix_web::Result<HttpResponse> {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default();
    if query.get("EIO").map(String::as_str) != Some("4") {
        return Ok(engine_error(5, "Unsupported protocol version"));
    }
    if query.get("transport").map(String::as_str) != Some("websocket") {
        // Long-polling is not served yet: clients fall back to WebSocket.
        return Ok(engine_error(0, "Transport unknown"));
    }
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let realtime = realtime.get_ref().clone();
    actix_web::rt::spawn(session::run(session, stream, realtime));
    Ok(response)
}
