//! Modes a service (or the whole proxy) can be in.

use std::fmt;
use std::str::FromStr;

/// What the proxy does with a request for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// Forward to the upstream and record the exchange.
    Learn,
    /// Serve the recorded library; never touch the network.
    Mock,
    /// Forward to the upstream and record nothing.
    Passthrough,
    /// Between LEARN and MOCK while the library catches up to the captures recorded
    /// before the switch; requests get 503 + Retry-After. Never set by users.
    Transitioning,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Learn => "LEARN",
            Mode::Mock => "MOCK",
            Mode::Passthrough => "PASSTHROUGH",
            Mode::Transitioning => "TRANSITIONING",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is not one users may set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode `{0}`: expected one of LEARN, MOCK, PASSTHROUGH")]
pub struct ModeParseError(pub String);

impl FromStr for Mode {
    type Err = ModeParseError;

    /// Parses a mode a user may set (case-insensitive). TRANSITIONING is refused:
    /// it is a state the proxy enters on its own.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "LEARN" => Ok(Mode::Learn),
            "MOCK" => Ok(Mode::Mock),
            "PASSTHROUGH" => Ok(Mode::Passthrough),
            _ => Err(ModeParseError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_refuses_transitioning() {
        assert_eq!("mock".parse::<Mode>(), Ok(Mode::Mock));
        assert_eq!(" Learn ".parse::<Mode>(), Ok(Mode::Learn));
        assert_eq!("PASSTHROUGH".parse::<Mode>(), Ok(Mode::Passthrough));
        assert!("TRANSITIONING".parse::<Mode>().is_err());
        let err = "replay".parse::<Mode>().unwrap_err();
        assert!(err.to_string().contains("replay"));
    }
}
