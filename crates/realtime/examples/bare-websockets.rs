//! The floor under the socket benchmark: a bare actix-ws server (one route,
//! no Engine.IO, no hub) that greets each WebSocket and then only reads it.
//! `scripts/bench-sockets.sh` holds as many sockets on it as on weelo and
//! reports both, so the figure per socket separates what actix-web and
//! actix-ws cost from what the realtime crate adds.
//! `PORT=3932 cargo run --release -p weelo-realtime --example bare-websockets`

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;

async fn socket(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        if session.text("0").await.is_err() {
            return;
        }
        while let Some(Ok(_)) = stream.next().await {}
        let _ = session.close(None).await;
    });
    Ok(response)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or(3932);
    HttpServer::new(|| App::new().route("/ws", web::get().to(socket)))
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
