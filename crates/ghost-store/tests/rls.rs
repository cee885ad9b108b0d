//! Tenancy is enforced by Postgres: for every tenant table, a session of
//! tenant A can neither read, insert, update nor delete tenant B's rows (also
//! with statements that forget their WHERE clause), a session with no tenant
//! sees nothing, and the application role can do nothing about it. The seal on
//! traffic holds against raw SQL; a database behind this build is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

use ghost_test_util::postgres::{TestDb, connect, uuid_like};
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

const TABLES: [&str; 4] = ["services", "traffic", "modes", "library_entries"];

/// A row of `table` for `tenant` (key `k`), as SQL values after tenant_id.
fn insert_sql(table: &str, tenant: &str, k: &str) -> String {
    match table {
        "services" => format!(
            "INSERT INTO services (tenant_id, name, upstream, first_seen_us, last_seen_us) VALUES ('{tenant}', '{k}', 'http://u', 1, 1)"
        ),
        "traffic" => format!(
            "INSERT INTO traffic (tenant_id, capture_id, service, session_id, method, uri, status, request_headers, request_body, response_headers, response_body, started_at_us, duration_us, upstream, http_version, body_truncated, scrubbed_at_us, scrub_config_id, findings) \
             VALUES ('{tenant}', '{k}', 's', 'sess', 'GET', '/x', 200, '[]', '', '[]', '', 1, 1, 'http://u', 'HTTP/1.1', false, 10, '', '[]')"
        ),
        "modes" => format!(
            "INSERT INTO modes (tenant_id, scope, mode, change_id, changed_at_us, actor) VALUES ('{tenant}', '{k}', 'LEARN', 'c', 1, 'test')"
        ),
        "library_entries" => format!(
            "INSERT INTO library_entries (tenant_id, entry_id, service, source, request, response, changed_at_us) VALUES ('{tenant}', '{k}', 's', 'edit', '{{}}', '{{}}', 1)"
        ),
        other => panic!("no row for {other}"),
    }
}

/// A column every table has that an UPDATE can change harmlessly.
fn touch_sql(table: &str) -> String {
    let col = match table {
        "services" => "last_seen_us",
        "traffic" => "duration_us",
        "modes" | "library_entries" => "changed_at_us",
        other => panic!("no column for {other}"),
    };
    format!("UPDATE {table} SET {col} = {col} + 1")
}

async fn setup() -> (TestDb, Client, String) {
    let db = TestDb::create().await;
    let role = format!("app_{}", uuid_like());
    let m = ghost_store::migrate(&db.url, &role, Some("app-password".into()))
        .await
        .unwrap();
    assert_eq!(m.version, ghost_store::latest_version());
    assert!(!m.role.generated);
    let owner = db.owner().await;
    let app_url = db.url_as(&role, "app-password");
    (db, owner, app_url)
}

async fn scoped(url: &str, tenant: Option<&str>) -> Client {
    let c = connect(url).await;
    if let Some(t) = tenant {
        // Session-wide here; the services set it per transaction.
        c.execute("SELECT set_config('ghost.tenant', $1, false)", &[&t])
            .await
            .unwrap();
    }
    c
}

fn is_rls_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)
}

#[tokio::test]
async fn no_tenant_reaches_another_tenants_rows() {
    let (_db, owner, app_url) = setup().await;
    for table in TABLES {
        owner
            .batch_execute(&insert_sql(table, "a", "ka"))
            .await
            .unwrap();
        owner
            .batch_execute(&insert_sql(table, "b", "kb"))
            .await
            .unwrap();
    }
    let a = scoped(&app_url, Some("a")).await;
    let nobody = scoped(&app_url, None).await;
    for table in TABLES {
        // SELECT: only A's rows, even asking for B's.
        let rows = a
            .query(&format!("SELECT tenant_id FROM {table}"), &[])
            .await
            .unwrap();
        let tenants: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(tenants, vec!["a".to_owned()], "{table}: select");
        let b_rows = a
            .query(&format!("SELECT 1 FROM {table} WHERE tenant_id = 'b'"), &[])
            .await
            .unwrap();
        assert!(b_rows.is_empty(), "{table}: select B by name");
        // No tenant: nothing at all.
        let none = nobody
            .query(&format!("SELECT 1 FROM {table}"), &[])
            .await
            .unwrap();
        assert!(none.is_empty(), "{table}: select without a tenant");

        // INSERT: not as B, not without a tenant.
        let e = a
            .batch_execute(&insert_sql(table, "b", "kb2"))
            .await
            .unwrap_err();
        assert!(is_rls_violation(&e), "{table}: insert as B: {e}");
        let e = nobody
            .batch_execute(&insert_sql(table, "a", "ka2"))
            .await
            .unwrap_err();
        assert!(
            is_rls_violation(&e),
            "{table}: insert without a tenant: {e}"
        );

        // UPDATE without WHERE touches only A's row; moving a row to B is refused.
        let n = a.execute(&touch_sql(table), &[]).await.unwrap();
        assert_eq!(n, 1, "{table}: update without WHERE");
        assert_eq!(nobody.execute(&touch_sql(table), &[]).await.unwrap(), 0);
        let e = a
            .execute(&format!("UPDATE {table} SET tenant_id = 'b'"), &[])
            .await
            .unwrap_err();
        assert!(is_rls_violation(&e), "{table}: move a row to B: {e}");

        // DELETE without WHERE removes only A's row.
        assert_eq!(
            nobody
                .execute(&format!("DELETE FROM {table}"), &[])
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            a.execute(&format!("DELETE FROM {table}"), &[])
                .await
                .unwrap(),
            1
        );
        let left: Vec<String> = owner
            .query(&format!("SELECT tenant_id FROM {table}"), &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(left, vec!["b".to_owned()], "{table}: B's row untouched");
    }
}

#[tokio::test]
async fn the_application_role_cannot_lift_the_policies() {
    let (_db, owner, app_url) = setup().await;
    let role = app_url
        .split("://")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let row = owner
        .query_one(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .unwrap();
    let flags: (bool, bool, bool, bool) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(flags, (false, false, false, false));
    let owned: i64 = owner
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tableowner = $1",
            &[&role],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owned, 0, "the application role owns no table");
    for table in TABLES {
        let forced: bool = owner
            .query_one(
                "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = $1",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        assert!(forced, "{table}: RLS enabled and forced");
    }
    let app = scoped(&app_url, Some("a")).await;
    for stmt in [
        "ALTER TABLE traffic DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE traffic NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON traffic",
        "SET row_security = off",
    ] {
        let refused = match app.batch_execute(stmt).await {
            Err(_) => true,
            // `SET row_security = off` is accepted but then makes any query
            // that RLS would filter fail instead of bypassing it.
            Ok(()) => app.query("SELECT 1 FROM traffic", &[]).await.is_err(),
        };
        assert!(refused, "{stmt}");
    }
}

#[tokio::test]
async fn sealed_traffic_stays_sealed_whatever_the_sql() {
    let (_db, owner, _app) = setup().await;
    owner
        .batch_execute(&insert_sql("traffic", "a", "c1"))
        .await
        .unwrap();
    // The superuser bypasses RLS, not constraints or triggers.
    let unsealed = insert_sql("traffic", "a", "c2").replace(", 10, '', '[]')", ", 0, '', '[]')");
    let e = owner.batch_execute(&unsealed).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::CHECK_VIOLATION), "{e}");
    for stmt in [
        "UPDATE traffic SET scrubbed_at_us = 0",
        "UPDATE traffic SET scrubbed_at_us = -1 WHERE capture_id = 'c1'",
        "UPDATE traffic SET scrubbed_at_us = 5, request_body = 'raw@example.com'",
    ] {
        let e = owner.batch_execute(stmt).await.unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::CHECK_VIOLATION), "{stmt}: {e}");
    }
    // A newer seal replaces it.
    owner
        .batch_execute("UPDATE traffic SET scrubbed_at_us = 20, request_body = '[EMAIL]'")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_database_behind_this_build_is_refused_and_migrate_is_idempotent() {
    let db = TestDb::create().await;
    let e = ghost_store::connect(&db.url, 2).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("run `ghost migrate --postgres URL` first"),
        "{e}"
    );
    let role = format!("app_{}", uuid_like());
    let first = ghost_store::migrate(&db.url, &role, None).await.unwrap();
    assert!(first.role.generated);
    assert_eq!(first.applied, vec![1]);
    let again = ghost_store::migrate(&db.url, &role, Some("pw2".into()))
        .await
        .unwrap();
    assert!(again.applied.is_empty());
    // The new password works, and the app role passes the version check.
    ghost_store::connect(&db.url_as(&role, "pw2"), 2)
        .await
        .unwrap();
    let bad = ghost_store::migrate(&db.url, "Robert'); DROP TABLE traffic;--", None)
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("application role name"), "{bad}");
}
