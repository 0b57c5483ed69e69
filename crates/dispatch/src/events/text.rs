//! The human text of a push (`title`, `body`): what the phone shows in the
//! notification shade when the app is closed, in English or Hindi (the
//! user's `preferredLanguage`), with the figures a person wants at a
//! glance (how many trucks, where from and to, the fare, the vehicle).

use serde_json::{Map, Value};

/// The title and body of a push of type `kind`.
pub fn title_and_body(
    kind: &str,
    fields: &Map<String, Value>,
    language: Option<&str>,
) -> (String, String) {
    let hindi = language.is_some_and(|l| l.eq_ignore_ascii_case("hi"));
    let get = |key: &str| -> String {
        match fields.get(key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => String::new(),
        }
    };
    // A place's city, else its address: nested (`pickupLocation`,
    // `pickup`) or flat (`pickupCity`, `pickupAddress`).
    let place = |nested: [&str; 2], flat: &str| -> String {
        nested
            .iter()
            .filter_map(|key| fields.get(*key))
            .find_map(|p| {
                ["city", "address"]
                    .iter()
                    .find_map(|k| p.get(*k).and_then(Value::as_str).filter(|t| !t.is_empty()))
            })
            .map(str::to_owned)
            .or_else(|| {
                [format!("{flat}City"), format!("{flat}Address")]
                    .iter()
                    .map(|key| get(key))
                    .find(|text| !text.is_empty())
            })
            .unwrap_or_default()
    };
    let route = format!(
        "{} → {}",
        place(["pickupLocation", "pickup"], "pickup"),
        place(["dropLocation", "drop"], "drop")
    );
    let vehicle = get("vehicleNumber");
    let (en, hi): ((&str, String), (&str, String)) = match kind {
        "new_broadcast" => {
            let trucks = get("trucksNeeded");
            let what = format!("{} {}", get("vehicleType"), get("vehicleSubtype"));
            let fare = get("farePerTruck");
            (
                (
                    "New booking request",
                    format!("{trucks} × {what}: {route}, ₹{fare}/truck"),
                ),
                (
                    "नई बुकिंग",
                    format!("{trucks} × {what}: {route}, ₹{fare}/ट्रक"),
                ),
            )
        }
        "trip_assigned" => {
            let secs = get("driverAcceptTimeoutSeconds");
            (
                (
                    "New trip assigned",
                    format!("{route} · {vehicle}. Accept within {secs} s"),
                ),
                (
                    "नई ट्रिप",
                    format!("{route} · {vehicle}. {secs} सेकंड में स्वीकार करें"),
                ),
            )
        }
        "driver_timeout" => (
            (
                "Driver did not respond",
                format!(
                    "{} did not answer for {vehicle}; the truck is open again",
                    get("driverName")
                ),
            ),
            (
                "ड्राइवर ने जवाब नहीं दिया",
                format!("{} ने {vehicle} के लिए जवाब नहीं दिया", get("driverName")),
            ),
        ),
        "driver_accepted" => (
            (
                "Driver accepted",
                format!("{} accepted the trip with {vehicle}", get("driverName")),
            ),
            (
                "ड्राइवर ने स्वीकार किया",
                format!("{} ने {vehicle} के साथ ट्रिप स्वीकार की", get("driverName")),
            ),
        ),
        "driver_declined" => (
            (
                "Driver declined",
                format!("{} declined the trip with {vehicle}", get("driverName")),
            ),
            (
                "ड्राइवर ने मना किया",
                format!("{} ने {vehicle} की ट्रिप मना की", get("driverName")),
            ),
        ),
        "order_cancelled" | "trip_cancelled" => (
            (
                "Booking cancelled",
                "The customer cancelled this booking".to_owned(),
            ),
            ("बुकिंग रद्द", "ग्राहक ने यह बुकिंग रद्द कर दी".to_owned()),
        ),
        "order_expired" | "broadcast_expired" => (
            (
                "Booking expired",
                "This request is no longer open".to_owned(),
            ),
            ("बुकिंग समाप्त", "यह अनुरोध अब खुला नहीं है".to_owned()),
        ),
        "broadcast_dismissed" => (
            (
                "Booking taken",
                "Other transporters filled this request".to_owned(),
            ),
            ("बुकिंग भर गई", "यह अनुरोध दूसरे ट्रांसपोर्टरों ने भर दिया".to_owned()),
        ),
        "booking_confirmed" => (
            (
                "Trucks confirmed",
                format!(
                    "All {} trucks of your booking are confirmed",
                    get("trucksNeeded")
                ),
            ),
            (
                "ट्रक पक्के",
                format!("आपकी बुकिंग के सभी {} ट्रक पक्के हो गए", get("trucksNeeded")),
            ),
        ),
        "vehicle_document_expiring" => {
            let what = if get("document") == "vehicle_rc" {
                ("registration", "पंजीकरण")
            } else {
                ("insurance", "बीमा")
            };
            let (days, on) = (get("daysLeft"), get("expiresOn"));
            (
                (
                    "Vehicle document expiring",
                    format!("{vehicle}: {} expires on {on} ({days} days)", what.0),
                ),
                (
                    "वाहन दस्तावेज़ की समाप्ति",
                    format!("{vehicle}: {} {on} को समाप्त ({days} दिन)", what.1),
                ),
            )
        }
        "driver_verification_changed" => {
            if get("verification") == "approved" {
                (
                    (
                        "Documents approved",
                        "The driver's documents are verified".to_owned(),
                    ),
                    ("दस्तावेज़ स्वीकृत", "ड्राइवर के दस्तावेज़ सत्यापित हो गए".to_owned()),
                )
            } else {
                let reason = get("reason");
                (
                    (
                        "Documents rejected",
                        format!("Please upload them again. {reason}"),
                    ),
                    ("दस्तावेज़ अस्वीकृत", format!("कृपया फिर से अपलोड करें। {reason}")),
                )
            }
        }
        "driver_arriving" => {
            let eta = get("durationText");
            if eta.is_empty() {
                (
                    (
                        "Truck at the pickup",
                        format!("{vehicle} has reached the pickup"),
                    ),
                    ("ट्रक पिकअप पर", format!("{vehicle} पिकअप पर पहुँच गया")),
                )
            } else {
                (
                    (
                        "Truck arriving",
                        format!("{vehicle} is about {eta} from the pickup"),
                    ),
                    ("ट्रक आ रहा है", format!("{vehicle} पिकअप से लगभग {eta} दूर है")),
                )
            }
        }
        "driver_offline" => (
            (
                "Driver may be offline",
                format!("No location from {vehicle} for a while"),
            ),
            (
                "ड्राइवर ऑफ़लाइन हो सकता है",
                format!("{vehicle} से कुछ समय से लोकेशन नहीं मिली"),
            ),
        ),
        "booking_completed" | "trip_completed" => (
            (
                "Delivered",
                "Every truck of the booking has delivered".to_owned(),
            ),
            ("डिलीवर हो गया", "बुकिंग के सभी ट्रक डिलीवर हो गए".to_owned()),
        ),
        _ => {
            let status = get("status").replace('_', " ");
            (
                ("Trip update", format!("{vehicle}: {status}")),
                ("ट्रिप अपडेट", format!("{vehicle}: {status}")),
            )
        }
    };
    let (title, body) = if hindi { hi } else { en };
    (title.to_owned(), body)
}
