//! HTTP calls in the apps' shapes.

use anyhow::{Context, bail};
use reqwest::Client;
use serde_json::{Value, json};

/// Logs `phone` in as a customer through send-otp / verify-otp (the server
/// must return `data.otp`, as local and test configurations do).
pub async fn login_customer(client: &Client, base: &str, phone: &str) -> anyhow::Result<String> {
    let sent: Value = client
        .post(format!("{base}/api/v1/auth/send-otp"))
        .json(&json!({ "phone": phone, "role": "customer" }))
        .send()
        .await?
        .json()
        .await?;
    let otp = sent["data"]["otp"]
        .as_str()
        .context("the server does not expose OTPs (run it with APP_AUTH__EXPOSE_OTP=true)")?;
    let verified: Value = client
        .post(format!("{base}/api/v1/auth/verify-otp"))
        .json(&json!({ "phone": phone, "otp": otp, "role": "customer" }))
        .send()
        .await?
        .json()
        .await?;
    match verified["data"]["tokens"]["accessToken"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => bail!("login failed: {verified}"),
    }
}

/// A valid order from Mumbai to Pune of `trucks` open 17 ft trucks.
pub fn order_body(trucks: u32) -> Value {
    json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai", "city": "Mumbai" },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune", "city": "Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": trucks, "pricePerTruck": 9000 }
        ],
        "goodsType": "General"
    })
}
