//! The city's shape: how many of everyone, how they behave, where they are,
//! and the phone numbers and plates each one gets (unique per run, so runs
//! against the same server do not collide).

use anyhow::bail;
use rand::Rng;
use serde_json::{Value, json};

/// The truck kinds of the city: (type, subtype).
pub const KINDS: [(&str, &str); 3] = [
    ("open", "17 Feet"),
    ("container", "20 Feet"),
    ("mini", "Mini Truck - Tata Ace"),
];

/// Options of `weelo-sim city`.
#[derive(Debug, Clone, clap::Parser)]
#[command(about = "A whole city (transporters, drivers, customers, trips) through the apps' API")]
pub struct Plan {
    /// The server (ignored with `spawn`).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Start a server on a fresh database for the run.
    #[arg(long)]
    pub spawn: bool,
    /// PostgreSQL for the invariant checks (set by `spawn`).
    #[arg(long)]
    pub database_url: Option<String>,
    /// The server's pid, for its RSS (set by `spawn`).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Transporters, each with 1–2 trucks and a driver per truck.
    #[arg(long, default_value_t = 200)]
    pub transporters: usize,
    /// Orders per second.
    #[arg(long, default_value_t = 2.0)]
    pub order_rate: f64,
    /// How long orders are booked, seconds (then the run drains).
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Longest wait for every order to end after the last booking.
    #[arg(long, default_value_t = 120)]
    pub drain_seconds: u64,
    /// Chance a transporter goes for a broadcast it gets.
    #[arg(long, default_value_t = 0.7)]
    pub hold_probability: f64,
    /// A transporter's think time before holding, ms.
    #[arg(long, default_value_t = 800)]
    pub think_ms: u64,
    /// Chance a driver declines.
    #[arg(long, default_value_t = 0.05)]
    pub decline_rate: f64,
    /// Chance a driver lets the 45 s run out.
    #[arg(long, default_value_t = 0.03)]
    pub timeout_rate: f64,
    /// Each trip stage (to pickup, loading, driving), ms: the accelerated clock.
    #[arg(long, default_value_t = 3_000)]
    pub stage_ms: u64,
    /// GPS fixes sent while driving.
    #[arg(long, default_value_t = 5)]
    pub fixes_per_trip: u32,
    /// Where the report goes.
    #[arg(long, default_value = "sim-report.json")]
    pub report: String,
    /// Where the chart goes.
    #[arg(long, default_value = "sim-latency.svg")]
    pub chart: String,
    /// Run tag: spreads phone numbers and plates between runs.
    #[arg(long, default_value_t = rand::rng().random_range(0..900))]
    pub tag: u64,
    /// Push through a local FCM stand-in; drivers run without a socket.
    #[arg(long)]
    pub push_stand_in: bool,
    /// Chance a customer rates its trips once its order completes.
    #[arg(long, default_value_t = 0.6)]
    pub rate_share: f64,
    /// Chance a customer cancels its order at each stage (searching, a
    /// driver accepted, at the pickup, loaded).
    #[arg(long, default_value_t = 0.02)]
    pub cancel_share: f64,
}

impl Plan {
    /// Parses the options after `city`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut plan: Self = crate::flags::parse("city", args);
        plan.url = plan.url.trim_end_matches('/').to_owned();
        let rates = [
            plan.hold_probability,
            plan.decline_rate,
            plan.timeout_rate,
            plan.rate_share,
            plan.cancel_share,
        ];
        if plan.transporters == 0 || plan.transporters > 50_000 {
            bail!("--transporters must be 1..=50000");
        }
        if !(plan.order_rate > 0.0 && plan.order_rate <= 1_000.0) {
            bail!("--order-rate must be above 0 and at most 1000");
        }
        if rates.iter().any(|r| !(0.0..=1.0).contains(r))
            || plan.decline_rate + plan.timeout_rate > 1.0
        {
            bail!("probabilities must be between 0 and 1");
        }
        if plan.tag >= 900 {
            bail!("--tag must be below 900");
        }
        Ok(plan)
    }

    /// Customers in the pool: enough that one is always free to book.
    pub fn customers(&self) -> usize {
        ((self.order_rate * 90.0).ceil() as usize).max(10)
    }

    fn phone(&self, role: u64, n: usize) -> String {
        // 6TTTRNNNNN: run tag, role, index.
        format!("6{:03}{}{:05}", self.tag, role, n % 100_000)
    }

    /// Transporter `n`'s phone.
    pub fn transporter_phone(&self, n: usize) -> String {
        self.phone(1, n)
    }

    /// The phone of truck `i` of transporter `n`'s driver.
    pub fn driver_phone(&self, n: usize, i: usize) -> String {
        self.phone(2, n * 2 + i)
    }

    /// Customer `n`'s phone.
    pub fn customer_phone(&self, n: usize) -> String {
        self.phone(3, n)
    }

    /// The plate of truck `i` of transporter `n` (`MH12AB1234` style).
    pub fn plate(&self, n: usize, i: usize) -> String {
        let index = self.tag as usize * 200_000 + n * 2 + i;
        let letters = index / 10_000;
        let first = char::from(b'A' + u8::try_from(letters / 26 % 26).unwrap_or(0));
        let second = char::from(b'A' + u8::try_from(letters % 26).unwrap_or(0));
        let district = 10 + letters / 676 % 90;
        format!("MH{district:02}{first}{second}{:04}", index % 10_000)
    }
}

/// The city: Mumbai, within about 15 km of the centre.
pub const CENTRE: (f64, f64) = (19.0760, 72.8777);

/// A point near the centre.
pub fn somewhere(rng: &mut impl Rng, radius_deg: f64) -> (f64, f64) {
    (
        CENTRE.0 + rng.random_range(-radius_deg..radius_deg),
        CENTRE.1 + rng.random_range(-radius_deg..radius_deg),
    )
}

/// An order of 1–4 trucks of one or two kinds, somewhere in the city.
pub fn order_body(rng: &mut impl Rng) -> Value {
    let pickup = somewhere(rng, 0.12);
    let drop = somewhere(rng, 0.3);
    let first = rng.random_range(0..KINDS.len());
    let mut lines = vec![(first, rng.random_range(1..=3_u32))];
    if rng.random_bool(0.25) {
        lines.push(((first + 1) % KINDS.len(), 1));
    }
    let requirements: Vec<Value> = lines
        .iter()
        .map(|(kind, quantity)| {
            json!({
                "vehicleType": KINDS[*kind].0, "vehicleSubtype": KINDS[*kind].1,
                "quantity": quantity, "pricePerTruck": 4_000 + 500 * *kind as i64,
            })
        })
        .collect();
    json!({
        "pickup": { "latitude": pickup.0, "longitude": pickup.1, "address": "Pickup, Mumbai", "city": "Mumbai" },
        "drop": { "latitude": drop.0, "longitude": drop.1, "address": "Drop, Mumbai", "city": "Mumbai" },
        "distanceKm": 25,
        "vehicleRequirements": requirements,
        "goodsType": "General",
    })
}
