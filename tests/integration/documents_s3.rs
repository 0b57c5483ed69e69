//! The documents suite's core against S3: a bucket of the test's own on
//! the S3-compatible stand-in, or the real bucket `STORAGE_TEST_S3_URL`
//! names. Uploads land under the configured prefix, the profile's links
//! are presigned (a bare key is refused), a refused upload stores
//! nothing, the orphan sweep lists and deletes in the bucket, and removing
//! the driver leaves the prefix empty.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use futures_util::StreamExt;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use reqwest::{Method, StatusCode};
use weelo_test_support::TestBucket;

use crate::documents::{
    GPS_MARK, contains, driver_with_documents, file, photo_with_gps, png, send,
};
use crate::helpers::{TestApp, spawn_tuned};

async fn app_on(bucket: &TestBucket) -> TestApp {
    spawn_tuned(|settings| {
        let storage = &mut settings.storage;
        storage.url = bucket.url();
        storage.s3_endpoint = bucket.endpoint().map(str::to_owned);
        storage.s3_region = Some("us-east-1".to_owned());
        if let Some((id, secret)) = bucket.keys() {
            storage.s3_access_key_id = Some(id.to_owned());
            storage.s3_secret_access_key = Some(secret.to_owned().into());
        }
    })
    .await
}

/// The bucket as the test sees it, beside the server.
fn direct(bucket: &TestBucket) -> impl ObjectStore {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket.bucket())
        .with_region("us-east-1");
    if let Some(endpoint) = bucket.endpoint() {
        builder = builder.with_endpoint(endpoint).with_allow_http(true);
    }
    if let Some((id, secret)) = bucket.keys() {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret);
    }
    builder.build().unwrap()
}

/// Every key under the test's prefix.
async fn keys(store: &impl ObjectStore, bucket: &TestBucket) -> Vec<String> {
    let prefix = Path::from(bucket.prefix());
    store
        .list(Some(&prefix))
        .map(|meta| meta.unwrap().location.to_string())
        .collect()
        .await
}

#[tokio::test]
async fn documents_live_in_the_bucket_behind_presigned_links() {
    let bucket = TestBucket::new().unwrap();
    let store = direct(&bucket);
    let app = app_on(&bucket).await;
    let (_, driver_id, driver) = driver_with_documents(&app).await;
    let stored = keys(&store, &bucket).await;
    assert_eq!(
        stored.len(),
        5,
        "three files and two thumbnails: {stored:?}"
    );
    let documents = format!("{}/documents/{driver_id}/", bucket.prefix());
    assert!(
        stored.iter().all(|k| k.starts_with(&documents)),
        "{stored:?}"
    );

    // The profile's link is presigned for the bucket, for 15 minutes.
    let (_, profile) = app.get_as("driver/profile", &driver).await;
    let link = profile["data"]["driver"]["photos"]["profilePhoto"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        link.contains("X-Amz-Signature=") && link.contains("X-Amz-Expires=900"),
        "{link}"
    );
    assert!(
        link.contains(&format!("/{}/{documents}", bucket.bucket())),
        "{link}"
    );
    let photo = reqwest::get(&link).await.unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    let bytes = photo.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(!contains(&bytes, b"Exif") && !contains(&bytes, GPS_MARK));
    let bare = link.split('?').next().unwrap();
    assert_eq!(
        reqwest::get(bare).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "no key is public"
    );

    // A PNG named .pdf is refused and stores nothing.
    let (status, _) = send(
        &app,
        Method::PUT,
        "driver/profile/license",
        &driver,
        &[file(
            "licenseFront",
            "front.pdf",
            "application/pdf",
            png(200, 120),
        )],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(keys(&store, &bucket).await.len(), 5);

    // An object no row names (a crash before the commit) is swept once old.
    let orphan = Path::from(format!("{}/documents/crashed/orphan.jpg", bucket.prefix()));
    store.put(&orphan, photo_with_gps().into()).await.unwrap();
    assert_eq!(app.jobs.sweep_documents().await.unwrap(), (0, 0, 0));
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(app.jobs.sweep_documents().await.unwrap(), (1, 0, 0));
    assert_eq!(keys(&store, &bucket).await.len(), 5);

    // Removing the driver empties the prefix (a fresh login: two hours
    // have passed).
    let transporter = app.token("9876500001", "transporter").await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("profile/drivers/{driver_id}"),
            Some(&transporter),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(keys(&store, &bucket).await.is_empty());
}
