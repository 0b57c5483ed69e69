//! The server the official protocol suites run against, on
//! `127.0.0.1:3000` (`cargo run -p weelo-realtime --example conformance`;
//! `PORT` changes the port): raw Engine.IO echo at `/engine.io/`, Socket.IO
//! at `/socket.io/`, CORS open.

use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer};
use weelo_realtime::conformance::{self, Conformance};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or(3000);
    let server = Conformance::new(conformance::config());
    println!("conformance server on http://127.0.0.1:{port} (/engine.io/, /socket.io/)");
    HttpServer::new(move || {
        let server = server.clone();
        App::new()
            .wrap(
                DefaultHeaders::new()
                    .add(("Access-Control-Allow-Origin", "*"))
                    .add(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
                    .add(("Access-Control-Allow-Headers", "*")),
            )
            .configure(|cfg| server.configure(cfg))
    })
    .workers(2)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
