//! `ghost migrate`: applies `migrations/` as the owner role, then creates (or
//! updates) the application role and grants it exactly what the services need.

use crate::error::StoreError;
use rand::Rng;
use tokio_postgres::NoTls;

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// The role the services connect as.
#[derive(Debug, Clone)]
pub struct AppRole {
    pub name: String,
    pub password: String,
    /// The password was generated here (print it once: it is stored nowhere).
    pub generated: bool,
}

/// What a migration run did.
#[derive(Debug, Clone)]
pub struct Migrated {
    /// Versions applied by this run (empty when already current).
    pub applied: Vec<i32>,
    /// The schema version the database is at now.
    pub version: i32,
    pub role: AppRole,
}

/// The schema version this build expects.
pub fn latest_version() -> i32 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .unwrap_or(0)
}

fn valid_role(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Applies every pending migration over `owner_url` and sets up the
/// application role `role` (password `password`, or a generated one).
pub async fn migrate(
    owner_url: &str,
    role: &str,
    password: Option<String>,
) -> Result<Migrated, StoreError> {
    if !valid_role(role) {
        return Err(StoreError::RoleName(role.to_owned()));
    }
    let (mut client, connection) = tokio_postgres::connect(owner_url, NoTls)
        .await
        .map_err(StoreError::Connect)?;
    let conn = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "migration connection ended");
        }
    });
    let report = embedded::migrations::runner()
        .run_async(&mut client)
        .await
        .map_err(StoreError::Migrate)?;
    let applied: Vec<i32> = report
        .applied_migrations()
        .iter()
        .map(|m| m.version())
        .collect();
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p, false),
        None => (generate_password(), true),
    };
    setup_role(&client, role, &password).await?;
    drop(client);
    let _ = conn.await;
    Ok(Migrated {
        applied,
        version: latest_version(),
        role: AppRole {
            name: role.to_owned(),
            password,
            generated,
        },
    })
}

/// The tables the application role reads and writes.
const APP_TABLES: [&str; 5] = [
    "services",
    "traffic",
    "modes",
    "library_entries",
    "projector_offsets",
];

async fn setup_role(
    client: &tokio_postgres::Client,
    role: &str,
    password: &str,
) -> Result<(), StoreError> {
    let q = StoreError::query;
    // Role DDL takes no bind parameters: quote through format() server-side.
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
        .await
        .map_err(q("looking up the application role"))?
        .is_some();
    let verb = if exists { "ALTER" } else { "CREATE" };
    let ddl: String = client
        .query_one(
            &format!(
                "SELECT format('{verb} ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION', $1::text, $2::text)"
            ),
            &[&role, &password],
        )
        .await
        .map_err(q("preparing the application role"))?
        .get(0);
    client
        .batch_execute(&ddl)
        .await
        .map_err(q("creating the application role"))?;
    let grants: String = client
        .query_one(
            "SELECT format('GRANT CONNECT ON DATABASE %I TO %I; GRANT USAGE ON SCHEMA public TO %I; GRANT SELECT ON refinery_schema_history TO %I;', current_database(), $1::text, $1::text, $1::text)",
            &[&role],
        )
        .await
        .map_err(q("preparing grants"))?
        .get(0);
    client
        .batch_execute(&grants)
        .await
        .map_err(q("granting database access"))?;
    for table in APP_TABLES {
        let grant: String = client
            .query_one(
                "SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO %I', $1::text, $2::text)",
                &[&table, &role],
            )
            .await
            .map_err(q("preparing table grants"))?
            .get(0);
        client
            .batch_execute(&grant)
            .await
            .map_err(q("granting table access"))?;
    }
    Ok(())
}

/// Refuses a database whose schema is not exactly this build's.
pub(crate) async fn check_current(client: &tokio_postgres::Client) -> Result<(), StoreError> {
    let latest = latest_version();
    let applied: Option<i32> = match client
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await
    {
        Ok(row) => row.get(0),
        // No history table: nothing was ever migrated.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => None,
        Err(e) => return Err(StoreError::query("reading the schema version")(e)),
    };
    let applied = applied.unwrap_or(0);
    match applied.cmp(&latest) {
        std::cmp::Ordering::Less => Err(StoreError::Behind { applied, latest }),
        std::cmp::Ordering::Greater => Err(StoreError::Ahead { applied, latest }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_plain_identifiers() {
        for ok in ["ghost_app", "g", "team7_ghost"] {
            assert!(valid_role(ok), "{ok}");
        }
        for bad in ["", "Ghost", "7ghost", "ghost-app", "ghost;drop", "a\"b"] {
            assert!(!valid_role(bad), "{bad}");
        }
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn this_build_knows_its_schema_version() {
        assert!(latest_version() >= 1);
    }
}
