//! A real PostgreSQL for tests: the throwaway loopback cluster of
//! `scripts/postgres.sh` (started once, shared), one fresh database per test.
//! `GHOST_TEST_POSTGRES=postgres://…/postgres` uses an existing server's admin
//! URL instead and starts nothing.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use tokio::sync::OnceCell;
use tokio_postgres::NoTls;

/// A database of its own for one test, on the shared test cluster.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// The database's name (`t_` + a random suffix).
    pub name: String,
    /// A superuser URL for this database (the owner role in tests).
    pub url: String,
    /// A superuser URL for the cluster's `postgres` database.
    pub admin_url: String,
}

static ADMIN: OnceCell<String> = OnceCell::const_new();

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn admin_url() -> String {
    ADMIN
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("GHOST_TEST_POSTGRES") {
                return url;
            }
            let out = tokio::task::spawn_blocking(|| {
                Command::new(repo_root().join("scripts/postgres.sh"))
                    .arg("start")
                    .stderr(Stdio::inherit())
                    .output()
            })
            .await
            .expect("join")
            .expect("run scripts/postgres.sh");
            assert!(out.status.success(), "scripts/postgres.sh start failed");
            String::from_utf8(out.stdout)
                .expect("utf-8")
                .trim()
                .to_owned()
        })
        .await
        .clone()
}

/// `url` with its database replaced by `db` (and its user by `user`, if given).
pub fn with_database(url: &str, db: &str, user: Option<(&str, &str)>) -> String {
    let (scheme, rest) = url.split_once("://").expect("postgres URL");
    let (auth_host, _) = rest.rsplit_once('/').unwrap_or((rest, ""));
    let host = auth_host.rsplit_once('@').map_or(auth_host, |(_, h)| h);
    let auth = match user {
        Some((u, p)) => format!("{u}:{p}@"),
        None => auth_host
            .rsplit_once('@')
            .map_or(String::new(), |(a, _)| format!("{a}@")),
    };
    format!("{scheme}://{auth}{host}/{db}")
}

impl TestDb {
    /// Creates a fresh, empty database.
    pub async fn create() -> Self {
        let admin_url = admin_url().await;
        let (client, conn) = tokio_postgres::connect(&admin_url, NoTls)
            .await
            .expect("connect to the test Postgres");
        tokio::spawn(conn);
        let name = format!("t_{}", uuid_like());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        Self {
            url: with_database(&admin_url, &name, None),
            name,
            admin_url,
        }
    }

    /// A URL for this database as `role` with `password`.
    pub fn url_as(&self, role: &str, password: &str) -> String {
        with_database(&self.admin_url, &self.name, Some((role, password)))
    }

    /// A connected superuser client for this database.
    pub async fn owner(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }
}

/// A connected client (its connection task spawned).
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A unique lower-case suffix for database and role names.
pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:x}{:x}{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// Every row of `table` as text, ordered by `order` (comma-separated
    /// columns): a whole table in a comparable form.
    pub async fn rows(&self, table: &str, order: &str) -> Vec<String> {
        self.owner()
            .await
            .query(
                &format!("SELECT t::text FROM {table} t ORDER BY {order}"),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("dump {table}: {e}"))
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// The projector's stored offsets of `topic`, summed over its partitions.
    pub async fn projected(&self, topic: &str) -> i64 {
        self.owner()
            .await
            .query_one(
                "SELECT coalesce(sum(next_offset), 0)::int8 FROM projector_offsets WHERE topic = $1",
                &[&topic],
            )
            .await
            .unwrap_or_else(|e| panic!("read projector offsets: {e}"))
            .get(0)
    }
}
