//! Status columns read into their types ([`weelo_persistence::stored`]):
//! a known name becomes its status; an unknown one fails the read instead of
//! turning into some default.

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use weelo_orders::{OrderStatus, TruckStatus};
use weelo_persistence::orders;
use weelo_persistence::stored::Stored;
use weelo_test_support::TestDb;

use crate::support;

#[derive(QueryableByName)]
struct Status {
    #[diesel(sql_type = Text, deserialize_as = Stored<TruckStatus>)]
    status: TruckStatus,
}

#[tokio::test]
async fn a_status_column_reads_into_its_type_and_an_unknown_name_is_an_error() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let held: Status = diesel::sql_query("SELECT 'in_progress'::text AS status")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(held.status, TruckStatus::InProgress);
    let unknown = diesel::sql_query("SELECT 'parked'::text AS status")
        .get_result::<Status>(&mut conn)
        .await;
    let error = unknown.err().unwrap().to_string();
    assert!(error.contains("unknown status \"parked\""), "{error}");

    // The rows come back typed.
    let customer = support::user(&mut conn, "9876543210", "customer").await;
    let (order, _) = support::order(&mut conn, customer, 2, support::now_s()).await;
    let stored = orders::find(&mut conn, order.id).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Active);
    let trucks = orders::trucks_of(&mut conn, order.id).await.unwrap();
    assert!(trucks.iter().all(|t| t.status == TruckStatus::Searching));
}
