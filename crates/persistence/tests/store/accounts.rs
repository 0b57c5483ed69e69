//! Users' rows: the availability toggle under its cooldown, vehicles by
//! their number, device tokens that move only with their device.

use chrono::Duration;

use crate::support::now_s;
use uuid::Uuid;
use weelo_persistence::availability::{self, Toggle};
use weelo_persistence::device_tokens;
use weelo_persistence::vehicles::{self, Delete, Upsert};
use weelo_test_support::TestDb;

use crate::support::{saved, user, vehicle};

#[tokio::test]
async fn the_toggle_changes_once_then_waits_out_its_cooldown() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let id = user(&mut conn, "9000000001", "transporter").await;
    let cooldown = Duration::seconds(5);
    let now = now_s();
    assert_eq!(
        availability::toggle(&mut conn, id, true, cooldown, now)
            .await
            .unwrap(),
        Toggle::Changed
    );
    assert_eq!(
        availability::toggle(&mut conn, id, false, cooldown, now + Duration::seconds(2))
            .await
            .unwrap(),
        Toggle::TooSoon {
            retry_after: Duration::seconds(3)
        }
    );
    assert_eq!(
        availability::toggle(&mut conn, id, true, cooldown, now + Duration::seconds(2))
            .await
            .unwrap(),
        Toggle::Unchanged {
            changed_at: Some(now)
        }
    );
    assert_eq!(
        availability::get(&mut conn, id).await.unwrap(),
        Some((true, Some(now)))
    );
    assert_eq!(
        availability::toggle(&mut conn, Uuid::new_v4(), true, cooldown, now)
            .await
            .unwrap(),
        Toggle::NotFound
    );
}

#[tokio::test]
async fn a_vehicle_number_belongs_to_one_transporter() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let mine = user(&mut conn, "9000000001", "transporter").await;
    let theirs = user(&mut conn, "9000000002", "transporter").await;
    let (first, is_new) = saved(vehicle(&mut conn, mine, "MH12AB1234", now).await);
    assert!(is_new);
    let (again, is_new) = saved(vehicle(&mut conn, mine, "MH12AB1234", now).await);
    assert!(!is_new, "the same transporter updates its vehicle");
    assert_eq!(again.id, first.id);
    assert!(matches!(
        vehicle(&mut conn, theirs, "MH12AB1234", now).await,
        Upsert::NumberTaken
    ));
    assert_eq!(vehicles::list(&mut conn, mine).await.unwrap().len(), 1);
    assert!(vehicles::list(&mut conn, theirs).await.unwrap().is_empty());
    assert!(
        vehicles::find(&mut conn, theirs, first.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_free_vehicle_is_deleted_once_and_only_by_its_owner() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let now = now_s();
    let mine = user(&mut conn, "9000000001", "transporter").await;
    let theirs = user(&mut conn, "9000000002", "transporter").await;
    let (truck, _) = saved(vehicle(&mut conn, mine, "MH12AB1234", now).await);
    assert!(matches!(
        vehicles::delete(&mut conn, theirs, truck.id, now)
            .await
            .unwrap(),
        Delete::NotFound
    ));
    assert!(matches!(
        vehicles::delete(&mut conn, mine, truck.id, now)
            .await
            .unwrap(),
        Delete::Deleted
    ));
    assert!(matches!(
        vehicles::delete(&mut conn, mine, truck.id, now)
            .await
            .unwrap(),
        Delete::NotFound
    ));
    // A deleted vehicle's number is free for another transporter.
    assert!(matches!(
        vehicle(&mut conn, theirs, "MH12AB1234", now).await,
        Upsert::Saved(..)
    ));
}

#[tokio::test]
async fn a_device_token_moves_to_another_user_only_from_its_device() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let a = user(&mut conn, "9000000001", "customer").await;
    let b = user(&mut conn, "9000000002", "customer").await;
    assert!(
        device_tokens::register(&mut conn, a, "tok", Some("android"), Some("dev-1"))
            .await
            .unwrap()
    );
    assert!(
        !device_tokens::register(&mut conn, b, "tok", Some("android"), Some("dev-2"))
            .await
            .unwrap(),
        "another device cannot take it"
    );
    assert!(
        !device_tokens::register(&mut conn, b, "tok", Some("android"), None)
            .await
            .unwrap(),
        "nor can a caller naming no device"
    );
    assert!(
        device_tokens::register(&mut conn, b, "tok", Some("android"), Some("dev-1"))
            .await
            .unwrap(),
        "the same device changed hands"
    );
    assert!(
        !device_tokens::unregister(&mut conn, a, "tok")
            .await
            .unwrap()
    );
    assert!(
        device_tokens::unregister(&mut conn, b, "tok")
            .await
            .unwrap()
    );
}
