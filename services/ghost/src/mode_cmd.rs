//! `ghost mode get|set`.

use crate::cli::{ControlTarget, ModeCommand};
use crate::client::call;
use anyhow::bail;

fn url(t: &ControlTarget) -> String {
    let base = t.control_url.trim_end_matches('/');
    match &t.service {
        Some(s) => format!("{base}/v1/mode?service={s}"),
        None => format!("{base}/v1/mode"),
    }
}

pub(crate) fn fail(status: http::StatusCode, body: &serde_json::Value) -> anyhow::Error {
    let code = body
        .get("error")
        .and_then(|v| v.as_str())
        .unwrap_or("error");
    let detail = body.get("detail").and_then(|v| v.as_str()).unwrap_or("");
    anyhow::anyhow!("{status}: {code}: {detail}")
}

pub async fn run(cmd: ModeCommand) -> anyhow::Result<()> {
    match cmd {
        ModeCommand::Get(t) => {
            let (status, body) =
                call(http::Method::GET, &url(&t), t.api_key.as_deref(), None).await?;
            if !status.is_success() {
                return Err(fail(status, &body));
            }
            let mode = body.get("mode").and_then(|v| v.as_str()).unwrap_or("?");
            match &t.service {
                Some(s) => println!("{s}: {mode}"),
                None => println!("{mode}"),
            }
            Ok(())
        }
        ModeCommand::Set { mode, target } => {
            if mode.parse::<ghost_model::Mode>().is_err() {
                bail!("unknown mode `{mode}`: expected learn, mock or passthrough");
            }
            let body = serde_json::json!({ "mode": mode.to_ascii_uppercase() });
            let (status, body) = call(
                http::Method::POST,
                &url(&target),
                target.api_key.as_deref(),
                Some(body),
            )
            .await?;
            if !status.is_success() {
                return Err(fail(status, &body));
            }
            let now = body.get("mode").and_then(|v| v.as_str()).unwrap_or("?");
            if status == http::StatusCode::ACCEPTED {
                println!("{now} (still switching; check again with `ghost mode get`)");
            } else {
                println!("{now}");
            }
            Ok(())
        }
    }
}
