//! Drivers' documents end to end, in the captain app's multipart shape:
//! the KYC form and the profile gate, photos stripped of their EXIF/GPS
//! data, signed download links that expire and bind to their key, the
//! refusals (a PNG named .pdf, a 6 MB file, a truncated image, a
//! decompression bomb) leaving no object and no row, and the sweep that
//! removes an upload no row names.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_error, spawn_app};

/// What a part of a form carries.
pub(crate) struct Part<'a> {
    name: &'a str,
    file: Option<(&'a str, &'a str)>,
    bytes: Vec<u8>,
}

pub(crate) fn text<'a>(name: &'a str, value: &str) -> Part<'a> {
    Part {
        name,
        file: None,
        bytes: value.as_bytes().to_vec(),
    }
}

pub(crate) fn file<'a>(
    name: &'a str,
    file_name: &'a str,
    content_type: &'a str,
    bytes: Vec<u8>,
) -> Part<'a> {
    Part {
        name,
        file: Some((file_name, content_type)),
        bytes,
    }
}

/// A form as OkHttp's `MultipartBody` writes it.
fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "weelo-test-boundary-7f3a";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part.file {
            Some((file_name, content_type)) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", part.name).as_bytes(),
            ),
        }
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    parts: &[Part<'_>],
) -> (StatusCode, Value) {
    let (content_type, body) = form(parts);
    // A connection of its own: building a test's images can take longer
    // than the server keeps an idle pooled connection, and a request on a
    // connection the server just closed fails before it is answered.
    let response = reqwest::Client::new()
        .request(method, format!("{}/api/v1/{path}", app.address))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The GPS coordinates hidden in [`photo_with_gps`].
pub(crate) const GPS_MARK: &[u8] = b"GPSLatitude=19.0760N GPSLongitude=72.8777E";

/// A JPEG whose APP1 segment carries EXIF with the driver's position.
pub(crate) fn photo_with_gps() -> Vec<u8> {
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::from_pixel(900, 600, image::Rgb([200, 120, 40])))
        .write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)
        .unwrap();
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(GPS_MARK);
    let length = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, length[0], length[1]]);
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageLuma8(GrayImage::from_pixel(width, height, image::Luma([90])))
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `folder`, recursively.
pub(crate) fn stored(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// A transporter's driver, logged in: its token.
pub(crate) async fn driver(app: &TestApp) -> String {
    let transporter = app.token("9876500001", "transporter").await;
    app.onboard_driver(&transporter, "9876500002", "Ravi").await;
    app.driver_token("9876500002").await
}

/// A transporter's driver who has sent its KYC form (three documents, five
/// objects): (transporter token, driver id, driver token).
pub(crate) async fn driver_with_documents(app: &TestApp) -> (String, String, String) {
    let transporter = app.token("9876500001", "transporter").await;
    let driver_id = app.onboard_driver(&transporter, "9876500002", "Ravi").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let driver = app.driver_token("9876500002").await;
    let (status, done) = send(
        app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &driver,
        &kyc_form(photo_with_gps()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    (transporter, driver_id, driver)
}

pub(crate) fn kyc_form(photo: Vec<u8>) -> Vec<Part<'static>> {
    vec![
        text("licenseNumber", "MH14 20110012345"),
        text("vehicleType", "open"),
        text("address", "Plot 4, Chakan MIDC, Pune"),
        text("language", "hi"),
        file("driverPhoto", "selfie.jpg", "image/jpeg", photo),
        file("licenseFront", "front.png", "image/png", png(640, 400)),
        file(
            "licenseBack",
            "back.pdf",
            "application/pdf",
            b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec(),
        ),
    ]
}

/// `GET` of a signed link, against this app.
async fn fetch(app: &TestApp, link: &str) -> reqwest::Response {
    let path = &link[link.find("/api/v1/").unwrap()..];
    reqwest::Client::new()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_kyc_form_completes_the_profile_and_photos_lose_their_gps() {
    let app = spawn_app().await;
    let token = driver(&app).await;
    let (_, before) = app.get_as("driver/profile", &token).await;
    assert_eq!(
        before["data"]["driver"]["isProfileCompleted"], false,
        "{before}"
    );

    let (status, done) = send(
        &app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &token,
        &kyc_form(photo_with_gps()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["data"]["driver"]["isProfileCompleted"], true);
    assert_eq!(done["data"]["driver"]["verification"], "pending");

    let (_, profile) = app.get_as("driver/profile", &token).await;
    let driver = &profile["data"]["driver"];
    assert_eq!(driver["isProfileCompleted"], true);
    assert_eq!(driver["licenseNumber"], "MH14 20110012345");
    assert_eq!(driver["language"], "hi");
    let link = driver["photos"]["profilePhoto"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        link.contains("/api/v1/files/documents/") && link.contains("sig="),
        "{link}"
    );
    assert!(driver["photos"]["licenseFront"].is_string());
    assert!(driver["photos"]["licenseBack"].is_string());

    let photo = fetch(&app, &link).await;
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    let bytes = photo.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(
        !contains(&bytes, b"Exif") && !contains(&bytes, GPS_MARK),
        "EXIF and GPS are gone"
    );
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 900);

    // Three documents; objects: three files and two thumbnails (no PDF one).
    assert_eq!(app.count_rows("documents WHERE status = 'active'").await, 3);
    assert_eq!(stored(app.objects.path()).len(), 5);
    assert_eq!(
        app.count_rows("users WHERE verification = 'pending'").await,
        1
    );

    // A new photo replaces the old one.
    let (status, replaced) = send(
        &app,
        reqwest::Method::PUT,
        "driver/profile/photo",
        &token,
        &[file("photo", "new.png", "image/png", png(300, 300))],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_ne!(
        replaced["data"]["photos"]["profilePhoto"].as_str().unwrap(),
        link
    );
    assert_eq!(
        app.count_rows("documents WHERE status = 'replaced' AND kind = 'driver_photo'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_signed_link_works_until_it_expires_and_only_for_its_key() {
    let app = spawn_app().await;
    let token = driver(&app).await;
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &token,
        &kyc_form(photo_with_gps()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, profile) = app.get_as("driver/profile", &token).await;
    let photos = &profile["data"]["driver"]["photos"];
    let photo = photos["profilePhoto"].as_str().unwrap().to_owned();
    let front = photos["licenseFront"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&app, &front).await.status(), StatusCode::OK);

    // The photo's signature on the licence's key.
    let sig = |link: &str| link.rsplit_once("sig=").unwrap().1.to_owned();
    let swapped = format!(
        "{}sig={}",
        front.rsplit_once("sig=").unwrap().0,
        sig(&photo)
    );
    assert_eq!(fetch(&app, &swapped).await.status(), StatusCode::NOT_FOUND);
    let tampered = photo.replace("exp=", "exp=9");
    assert_eq!(fetch(&app, &tampered).await.status(), StatusCode::NOT_FOUND);

    app.clock.advance(chrono::Duration::seconds(901));
    let expired = fetch(&app, &photo).await;
    assert_eq!(expired.status(), StatusCode::NOT_FOUND);
    assert_error(&expired.json().await.unwrap(), "NOT_FOUND");
}

#[tokio::test]
async fn bad_files_are_refused_and_leave_no_object_and_no_row() {
    let app = spawn_app().await;
    let token = driver(&app).await;
    let truncated = {
        let whole = photo_with_gps();
        whole[..whole.len() / 2].to_vec()
    };
    let mut big = photo_with_gps();
    big.resize(6 * 1024 * 1024, 0);
    let cases: Vec<(&str, Part<'_>, StatusCode)> = vec![
        (
            "a PNG named .pdf",
            file("licenseFront", "front.pdf", "application/pdf", png(64, 64)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a 6 MB file",
            file("driverPhoto", "big.jpg", "image/jpeg", big),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "a truncated image",
            file("driverPhoto", "half.jpg", "image/jpeg", truncated),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a decompression bomb",
            file("licenseBack", "bomb.png", "image/png", png(7_000, 7_000)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a zip",
            file(
                "licenseBack",
                "docs.zip",
                "application/zip",
                b"PK\x03\x04 not an image".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, bad, expected) in cases {
        let mut parts = kyc_form(photo_with_gps());
        parts.retain(|p| p.name != bad.name);
        parts.push(bad);
        let (status, body) = send(
            &app,
            reqwest::Method::POST,
            "driver/complete-profile",
            &token,
            &parts,
        )
        .await;
        assert_eq!(status, expected, "{what}: {body}");
        assert_eq!(body["success"], false, "{what}");
        assert_eq!(app.count_rows("documents").await, 0, "{what}");
        assert!(
            stored(app.objects.path()).is_empty(),
            "{what}: objects left behind"
        );
    }
    assert_eq!(
        app.count_rows("users WHERE verification = 'unverified' AND role = 'driver'")
            .await,
        1
    );

    // A missing licence number or photo is a field to fix.
    let mut parts = kyc_form(photo_with_gps());
    parts.retain(|p| p.name != "licenseNumber");
    let (status, body) = send(
        &app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &token,
        &parts,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"]["field"], "licenseNumber");
    let customer = app.token("9876500009", "customer").await;
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &customer,
        &kyc_form(photo_with_gps()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_upload_no_row_names_is_removed_by_the_sweep() {
    let app = spawn_app().await;
    let token = driver(&app).await;
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &token,
        &kyc_form(photo_with_gps()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // What a crash between storing and committing leaves: an object only.
    let orphan = app.objects.path().join("documents/crashed/orphan.jpg");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, photo_with_gps()).unwrap();
    assert_eq!(
        app.jobs.sweep_documents().await.unwrap(),
        (0, 0, 0),
        "too young to be an orphan"
    );
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(app.jobs.sweep_documents().await.unwrap(), (1, 0, 0));
    assert!(!orphan.exists());
    assert_eq!(
        stored(app.objects.path()).len(),
        5,
        "the referenced ones stay"
    );
}

#[tokio::test]
async fn with_verified_drivers_required_a_confirm_waits_for_kyc_approval() {
    use crate::dispatch::{confirm, fleet_at, hold, one_truck};
    let app = crate::helpers::spawn_tuned(|s| s.kyc.require_verified_driver = true).await;
    let fleet = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app.create_order(&customer, "key-1", &one_truck()).await;
    let order = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (status, held) = hold(&app, &fleet.token, &order, 1).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let hold_id = held["data"]["holdId"].clone();

    let (status, refused) = confirm(&app, &fleet, &hold_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_error(&refused, "DRIVER_NOT_VERIFIED");
    assert_eq!(
        refused["error"]["details"]["driverIds"][0],
        fleet.driver.as_str()
    );

    // Nothing to decide before the profile is complete.
    let settings = crate::helpers::test_settings(&app.db, &app.redis);
    let driver_id: uuid::Uuid = fleet.driver.parse().unwrap();
    let approve = weelo_server::kyc::KycCommand::Approve { driver_id };
    assert!(
        weelo_server::kyc::run(&settings, approve.clone())
            .await
            .is_err()
    );
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "driver/complete-profile",
        &fleet.driver_token,
        &kyc_form(photo_with_gps()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = confirm(&app, &fleet, &hold_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "pending is not approved");
    let reject = weelo_server::kyc::KycCommand::Reject {
        driver_id,
        reason: "  ".to_owned(),
    };
    assert!(
        weelo_server::kyc::run(&settings, reject).await.is_err(),
        "a rejection needs a reason"
    );

    weelo_server::kyc::run(&settings, approve).await.unwrap();
    assert_eq!(
        app.count_rows("kyc_decisions WHERE decision = 'approved'")
            .await,
        1
    );
    assert_eq!(
        app.count_rows(&format!(
            "outbox WHERE topic = 'driver_verification_changed' AND 'driver:{}' = ANY(recipients)",
            fleet.driver
        ))
        .await,
        1
    );
    let (_, list) = app.get_as("driver/list", &fleet.token).await;
    assert_eq!(
        list["data"]["drivers"][0]["verification"], "approved",
        "{list}"
    );
    let (status, confirmed) = confirm(&app, &fleet, &hold_id).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");

    // The transporter sees its driver's documents; another fleet does not.
    let path = format!("driver/documents?driverId={}", fleet.driver);
    let (status, seen) = app.get_as(&path, &fleet.token).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["data"]["verification"], "approved");
    assert!(seen["data"]["photos"]["licenseFront"].is_string());
    let stranger = app.token("9876500077", "transporter").await;
    let (status, _) = app.get_as(&path, &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_vehicle_document_about_to_expire_is_warned_of_once() {
    use weelo_server::Clock;
    let app = spawn_app().await;
    let fleet = crate::dispatch::fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let today = app
        .clock
        .now()
        .with_timezone(&chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap())
        .date_naive();
    let day = |days: i64| (today + chrono::Duration::days(days)).to_string();
    let path = format!("vehicles/{}/documents", fleet.vehicle);
    let parts = [
        file(
            "registrationCertificate",
            "rc.pdf",
            "application/pdf",
            b"%PDF-1.4\n%%EOF\n".to_vec(),
        ),
        text("rcExpiresOn", &day(10)),
        file("insurance", "insurance.jpg", "image/jpeg", photo_with_gps()),
        text("insuranceExpiresOn", &day(40)),
    ];
    let (status, stored) = send(&app, reqwest::Method::PUT, &path, &fleet.token, &parts).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    let listed = stored["data"]["documents"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{stored}");
    assert!(
        listed
            .iter()
            .any(|d| d["kind"] == "vehicle_rc" && d["expiresOn"] == day(10).as_str())
    );

    let (_, me) = app.get_as("profile", &fleet.token).await;
    let transporter = me["data"]["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rows = format!(
        "outbox WHERE topic = 'vehicle_document_expiring' AND 'transporter:{transporter}' = ANY(recipients)"
    );
    assert_eq!(
        app.jobs.sweep_documents().await.unwrap().2,
        1,
        "the registration, 10 days out"
    );
    assert_eq!(app.jobs.sweep_documents().await.unwrap().2, 0, "once");
    assert_eq!(app.count_rows(&rows).await, 1, "{me}");
    // A date is required; another fleet's vehicle is not found.
    let (status, body) = send(&app, reqwest::Method::PUT, &path, &fleet.token, &parts[..1]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"]["field"], "rcExpiresOn");
    let stranger = app.token("9876500077", "transporter").await;
    let (status, _) = send(&app, reqwest::Method::PUT, &path, &stranger, &parts).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.clock.advance(chrono::Duration::days(26));
    assert_eq!(
        app.jobs.sweep_documents().await.unwrap().2,
        1,
        "the insurance, 14 days out"
    );
}
