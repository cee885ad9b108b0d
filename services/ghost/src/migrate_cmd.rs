//! `ghost migrate`: brings a Postgres database to this build's schema as the
//! owner role and sets up the application role the services connect as.

use crate::cli::MigrateArgs;
use anyhow::Context;

/// Printed where the password goes when the operator chose it.
const PLACEHOLDER: &str = "$GHOST_PG_APP_PASSWORD";

/// `url` with its credentials replaced by `user:password` (password
/// percent-encoded), for printing the application role's connection URL.
fn with_credentials(url: &str, user: &str, password: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let encoded: String = match password {
        // A placeholder for the operator's own password, printed as is.
        PLACEHOLDER => return Some(format!("{scheme}://{user}:{PLACEHOLDER}@{host}{tail}")),
        _ => password,
    }
    .bytes()
    .map(|b| match b {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
            char::from(b).to_string()
        }
        _ => format!("%{b:02X}"),
    })
    .collect();
    Some(format!("{scheme}://{user}:{encoded}@{host}{tail}"))
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let password = std::env::var("GHOST_PG_APP_PASSWORD").ok();
    let m = ghost_store::migrate(&args.postgres, &args.app_role, password)
        .await
        .context("ghost migrate")?;
    if m.applied.is_empty() {
        println!("schema already at version {}", m.version);
    } else {
        let list: Vec<String> = m.applied.iter().map(i32::to_string).collect();
        println!(
            "schema at version {} (applied {})",
            m.version,
            list.join(", ")
        );
    }
    let shown = if m.role.generated {
        m.role.password.clone()
    } else {
        PLACEHOLDER.to_owned()
    };
    let url = with_credentials(&args.postgres, &m.role.name, &shown)
        .unwrap_or_else(|| format!("(role {}, password {shown})", m.role.name));
    println!(
        "application role `{}` (not superuser, NOBYPASSRLS, owns no table)",
        m.role.name
    );
    if m.role.generated {
        println!("its password was generated and is shown once; store it:");
    }
    println!("services connect with --postgres {url}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_replaced_and_encoded() {
        assert_eq!(
            with_credentials(
                "postgres://owner:x@db:5432/ghost?sslmode=disable",
                "app",
                "p@ss/w"
            )
            .as_deref(),
            Some("postgres://app:p%40ss%2Fw@db:5432/ghost?sslmode=disable")
        );
        assert_eq!(
            with_credentials("postgres://db/ghost", "app", "pw").as_deref(),
            Some("postgres://app:pw@db/ghost")
        );
        assert_eq!(with_credentials("not a url", "a", "b"), None);
    }
}
