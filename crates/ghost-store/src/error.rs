//! Why a Postgres operation failed, in words an operator can act on.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid Postgres URL: {0}")]
    Url(String),
    #[error("cannot connect to Postgres: {0}")]
    Connect(#[source] tokio_postgres::Error),
    #[error("Postgres pool: {0}")]
    Pool(String),
    #[error("migrating the schema failed: {0}")]
    Migrate(#[source] refinery::Error),
    #[error(
        "the database schema is at version {applied} but this build needs {latest}: run `ghost migrate --postgres URL` first"
    )]
    Behind { applied: i32, latest: i32 },
    #[error(
        "the database schema is at version {applied}, newer than this build's {latest}: upgrade ghost"
    )]
    Ahead { applied: i32, latest: i32 },
    #[error(
        "application role name `{0}` must be lower-case letters, digits and `_`, starting with a letter"
    )]
    RoleName(String),
    #[error("{context}: {source}")]
    Query {
        context: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl StoreError {
    pub(crate) fn query(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Self {
        move |source| StoreError::Query { context, source }
    }

    /// Whether retrying later may succeed (the server is down or restarting,
    /// a connection dropped, a serialization conflict), as opposed to a
    /// statement that can never succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect(_) | StoreError::Pool(_) => true,
            StoreError::Query { source, .. } => is_transient(source),
            _ => false,
        }
    }
}

/// Whether a driver error may go away on retry.
pub fn is_transient(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // No SQLSTATE: the connection or I/O failed.
        None => true,
        Some(code) => {
            *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || code.code().starts_with("08")
        }
    }
}
