//! The regex side of scrubbing: what counts as PII, and how to find it in text.
//!
//! The issue lists sixteen kinds of value plus "phone (US and E.164)". Phones are split
//! in two because the two notations need different validation (NANP area/exchange
//! rules versus the ITU 8–15 digit rule) and fail in different ways, so their quality
//! is measured separately; both still print as `[PHONE]`. That gives the 17 categories:
//!
//! | issue wording | [`Category`] | placeholder |
//! |---|---|---|
//! | JWT | `Jwt` | `[JWT]` |
//! | Bearer credentials | `Bearer` | `[REDACTED]` |
//! | Basic credentials | `Basic` | `[REDACTED]` |
//! | Stripe / OpenAI / Anthropic / GitHub / AWS key | `StripeKey` … `AwsAccessKeyId` | `[STRIPE_KEY]` … `[AWS_KEY_ID]` |
//! | payment cards | `Card` | `[CARD]` |
//! | US SSN | `Ssn` | `[SSN]` |
//! | email | `Email` | `[EMAIL]` |
//! | phone, US | `PhoneUs` | `[PHONE]` |
//! | phone, E.164 | `PhoneE164` | `[PHONE]` |
//! | Bitcoin / Ethereum | `Bitcoin` / `Ethereum` | `[BTC_ADDR]` / `[ETH_ADDR]` |
//! | IBAN | `Iban` | `[IBAN]` |
//! | IPv4 | `Ipv4` | `[IPV4]` |
//!
//! Bearer and Basic findings cover the credential only, so `Bearer abc…` becomes
//! `Bearer [REDACTED]` and the scheme stays visible to whoever reads the capture.

mod accounts;
mod checks;
mod detector;
mod numeric;
mod patterns;

pub use detector::{Detector, Finding, Skip};

use std::fmt;

/// One kind of personal or secret value the detector recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Jwt,
    Bearer,
    Basic,
    StripeKey,
    OpenAiKey,
    AnthropicKey,
    GithubToken,
    AwsAccessKeyId,
    Card,
    Ssn,
    Email,
    PhoneUs,
    PhoneE164,
    Bitcoin,
    Ethereum,
    Iban,
    Ipv4,
}

impl Category {
    /// How many categories exist; sizes the per-category counters.
    pub const COUNT: usize = 17;

    /// Every category, in declaration order (the order reports print in).
    pub const ALL: [Category; Category::COUNT] = [
        Category::Jwt,
        Category::Bearer,
        Category::Basic,
        Category::StripeKey,
        Category::OpenAiKey,
        Category::AnthropicKey,
        Category::GithubToken,
        Category::AwsAccessKeyId,
        Category::Card,
        Category::Ssn,
        Category::Email,
        Category::PhoneUs,
        Category::PhoneE164,
        Category::Bitcoin,
        Category::Ethereum,
        Category::Iban,
        Category::Ipv4,
    ];

    /// The text that replaces a finding of this category.
    pub fn placeholder(self) -> &'static str {
        match self {
            Category::Jwt => "[JWT]",
            Category::Bearer | Category::Basic => "[REDACTED]",
            Category::StripeKey => "[STRIPE_KEY]",
            Category::OpenAiKey => "[OPENAI_KEY]",
            Category::AnthropicKey => "[ANTHROPIC_KEY]",
            Category::GithubToken => "[GITHUB_TOKEN]",
            Category::AwsAccessKeyId => "[AWS_KEY_ID]",
            Category::Card => "[CARD]",
            Category::Ssn => "[SSN]",
            Category::Email => "[EMAIL]",
            Category::PhoneUs | Category::PhoneE164 => "[PHONE]",
            Category::Bitcoin => "[BTC_ADDR]",
            Category::Ethereum => "[ETH_ADDR]",
            Category::Iban => "[IBAN]",
            Category::Ipv4 => "[IPV4]",
        }
    }

    /// A stable snake_case name, used in reports and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Category::Jwt => "jwt",
            Category::Bearer => "bearer",
            Category::Basic => "basic",
            Category::StripeKey => "stripe_key",
            Category::OpenAiKey => "openai_key",
            Category::AnthropicKey => "anthropic_key",
            Category::GithubToken => "github_token",
            Category::AwsAccessKeyId => "aws_access_key_id",
            Category::Card => "card",
            Category::Ssn => "ssn",
            Category::Email => "email",
            Category::PhoneUs => "phone_us",
            Category::PhoneE164 => "phone_e164",
            Category::Bitcoin => "bitcoin",
            Category::Ethereum => "ethereum",
            Category::Iban => "iban",
            Category::Ipv4 => "ipv4",
        }
    }

    /// Position in [`Category::ALL`]; indexes per-category counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the value carries a checksum the detector verifies, which is what
    /// earns it the stricter recall bar (0.99 instead of 0.95).
    pub fn is_checksummed(self) -> bool {
        matches!(self, Category::Card | Category::Iban | Category::Bitcoin)
    }

    /// Tie-break when two findings cover exactly the same text: lower wins. A JWT
    /// sent as a bearer token is reported as a JWT, an `sk-ant-` key as Anthropic
    /// rather than the broader OpenAI `sk-` shape.
    pub(crate) fn specificity(self) -> u8 {
        match self {
            Category::AnthropicKey => 0,
            Category::Jwt
            | Category::StripeKey
            | Category::GithubToken
            | Category::AwsAccessKeyId => 1,
            Category::OpenAiKey => 2,
            Category::Card | Category::Iban | Category::Bitcoin | Category::Ethereum => 3,
            Category::Basic | Category::Bearer => 4,
            Category::Email => 5,
            Category::Ssn | Category::PhoneUs => 6,
            Category::PhoneE164 => 7,
            Category::Ipv4 => 8,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_category_at_its_index() {
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }
}
