//! The labelled corpus: JSON bodies built as trees whose string leaves are lists of
//! segments, so the exact byte range and category of every planted PII value (and
//! every look-alike) is known without searching for it afterwards.

use ghost_scrub::Category;
use serde_json::{Map, Value};

use std::sync::LazyLock;

use ghost_scrub::SensitiveKeys;

use super::lookalikes;

static KEYS: LazyLock<SensitiveKeys> = LazyLock::new(|| SensitiveKeys::new(&[]));
use super::pii_values::{self, PiiValue};
use super::rng::Rng;

/// A piece of a string leaf.
#[derive(Debug, Clone)]
pub enum Seg {
    Lit(String),
    Pii(Category, String),
    Look(&'static str, String),
}

/// A labelled JSON tree.
#[derive(Debug, Clone)]
pub enum Node {
    Obj(Vec<(String, Node)>),
    Arr(Vec<Node>),
    Text(Vec<Seg>),
    /// An integer leaf, possibly a card sent as a number or a numeric look-alike.
    Num(u64, Option<Category>, Option<&'static str>),
    Plain(Value),
}

/// One string leaf ready for scoring.
pub struct Leaf {
    pub key: String,
    pub text: String,
    pub pii: Vec<(std::ops::Range<usize>, Category)>,
    pub looks: Vec<(std::ops::Range<usize>, &'static str)>,
}

const SENSITIVE_FIELDS: &[&str] = &[
    "password",
    "apiKey",
    "refresh_token",
    "client-secret",
    "cvv",
    "mfa_code",
    "Authorization",
];
const CONTAINERS: &[&str] = &[
    "data",
    "attributes",
    "meta",
    "billing",
    "profile",
    "details",
    "customer",
    "payload",
];
const TEXT_KEYS: &[&str] = &[
    "message",
    "note",
    "comment",
    "description",
    "log",
    "body_text",
];

pub fn generate(seed: u64, docs: usize) -> Vec<Node> {
    let mut rng = Rng::new(seed);
    (0..docs).map(|i| doc(&mut rng, i)).collect()
}

fn doc(rng: &mut Rng, i: usize) -> Node {
    let mut fields: Vec<(String, Node)> = vec![
        (
            "status".into(),
            Node::Text(vec![Seg::Lit(
                rng.pick(&["ok", "pending", "failed"]).to_string(),
            )]),
        ),
        ("count".into(), Node::Plain(Value::from(rng.below(500)))),
        ("enabled".into(), Node::Plain(Value::Bool(rng.chance(50)))),
    ];
    let mut cats = vec![Category::ALL[i % Category::COUNT]];
    for _ in 0..rng.below(3) {
        cats.push(*rng.pick(&Category::ALL));
    }
    for c in cats {
        let (key, node) = pii_item(rng, c);
        place(rng, &mut fields, key, node);
    }
    for _ in 0..rng.range(1, 3) {
        let kind = *rng.pick(lookalikes::KINDS);
        let (key, value) = lookalikes::generate(rng, kind);
        let node = if matches!(kind, "order_number" | "epoch_millis") && rng.chance(40) {
            Node::Num(value.parse().unwrap_or(0), None, Some(kind))
        } else if rng.chance(30) && key != "version" {
            sentence(rng, vec![Seg::Look(kind, value)])
        } else {
            Node::Text(vec![Seg::Look(kind, value)])
        };
        place(rng, &mut fields, key.to_owned(), node);
    }
    if rng.chance(15) {
        let c = *rng.pick(&Category::ALL);
        let v = pii_values::generate(rng, c);
        fields.push((
            rng.pick(SENSITIVE_FIELDS).to_string(),
            Node::Text(vec![Seg::Pii(c, format!("{}{}", v.prefix, v.secret))]),
        ));
    }
    Node::Obj(fields)
}

fn field_for(rng: &mut Rng, c: Category) -> &'static str {
    let names: &[&'static str] = match c {
        Category::Jwt => &["jwt", "assertion", "raw"],
        Category::Bearer | Category::Basic => &["header", "raw_header", "upstream"],
        Category::StripeKey | Category::OpenAiKey | Category::AnthropicKey => {
            &["stripe_key", "provider_key", "value"]
        }
        Category::GithubToken | Category::AwsAccessKeyId => {
            &["credential_ref", "value", "env_value"]
        }
        Category::Card => &["number"],
        Category::Ssn => &["tax_id", "national_id"],
        Category::Email => &["email", "contact_email", "to"],
        Category::PhoneUs | Category::PhoneE164 => &["phone", "mobile", "contact"],
        Category::Bitcoin | Category::Ethereum => &["wallet", "address", "payout_to"],
        Category::Iban => &["iban", "account"],
        Category::Ipv4 => &["ip", "client_ip", "remote_addr"],
    };
    names[rng.below(names.len())]
}

fn pii_item(rng: &mut Rng, c: Category) -> (String, Node) {
    let PiiValue { prefix, secret } = pii_values::generate(rng, c);
    let key = field_for(rng, c).to_owned();
    if c == Category::Card && rng.chance(15) {
        let digits: String = secret.chars().filter(char::is_ascii_digit).collect();
        return (key, Node::Num(digits.parse().unwrap_or(0), Some(c), None));
    }
    let mut segs = Vec::new();
    if !prefix.is_empty() {
        segs.push(Seg::Lit(if rng.chance(50) {
            format!("Authorization: {prefix}")
        } else {
            prefix
        }));
    }
    segs.push(Seg::Pii(c, secret));
    if c == Category::Ipv4 && rng.chance(30) {
        segs.push(Seg::Lit(format!(":{}", rng.range(1, 65535))));
    }
    if rng.chance(45) {
        let key = rng.pick(TEXT_KEYS).to_string();
        return (key, sentence(rng, segs));
    }
    (key, Node::Text(segs))
}

/// Wraps segments in a sentence, with punctuation right against the value.
fn sentence(rng: &mut Rng, inner: Vec<Seg>) -> Node {
    let (before, after) = *rng.pick(&[
        ("Please contact me at ", "."),
        ("Forwarded from ", " (see thread)"),
        ("value=", ";"),
        ("[", "]"),
        ("<", ">"),
        ("'", "'"),
        ("\"", "\","),
        ("Error for ", ": not found"),
        ("GET /v1/lookup/", " 404"),
        ("see ", "!"),
        ("{\"v\":\"", "\"}"),
        ("", ""),
        ("tab\t", "\nnext line"),
        ("ñandú → ", " ←"),
        (
            "User updated their details to ",
            " yesterday, ticket closed",
        ),
    ]);
    let mut segs = vec![Seg::Lit(before.to_owned())];
    segs.extend(inner);
    segs.push(Seg::Lit(after.to_owned()));
    Node::Text(segs)
}

/// Puts `node` under `key` at the root, in a nested object, or in an array.
fn place(rng: &mut Rng, fields: &mut Vec<(String, Node)>, key: String, node: Node) {
    let wrapped = match rng.below(4) {
        0 => return fields.push((key, node)),
        1 => Node::Obj(vec![
            (key, node),
            ("type".into(), Node::Text(vec![Seg::Lit("primary".into())])),
        ]),
        2 => Node::Arr(vec![
            Node::Obj(vec![(
                "id".into(),
                Node::Plain(Value::from(rng.below(1000))),
            )]),
            Node::Obj(vec![(key, node)]),
        ]),
        _ => Node::Obj(vec![(
            rng.pick(CONTAINERS).to_string(),
            Node::Obj(vec![(key, node)]),
        )]),
    };
    let container = format!("{}_{}", rng.pick(CONTAINERS), fields.len());
    fields.push((container, wrapped));
}

pub fn to_value(n: &Node) -> Value {
    render(n, false, false)
}

/// What the scrubber should produce for this tree.
pub fn expected(n: &Node) -> Value {
    render(n, true, false)
}

fn render(n: &Node, scrubbed: bool, redacted: bool) -> Value {
    if scrubbed && redacted {
        return Value::String("[REDACTED]".into());
    }
    match n {
        Node::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        render(v, scrubbed, scrubbed && KEYS.is_sensitive(k)),
                    )
                })
                .collect::<Map<_, _>>(),
        ),
        Node::Arr(items) => {
            Value::Array(items.iter().map(|v| render(v, scrubbed, false)).collect())
        }
        Node::Text(segs) => Value::String(
            segs.iter()
                .map(|s| match s {
                    Seg::Pii(c, _) if scrubbed => c.placeholder().to_owned(),
                    Seg::Lit(t) | Seg::Pii(_, t) | Seg::Look(_, t) => t.clone(),
                })
                .collect(),
        ),
        Node::Num(_, Some(c), _) if scrubbed => Value::String(c.placeholder().to_owned()),
        Node::Num(v, _, _) => Value::from(*v),
        Node::Plain(v) => v.clone(),
    }
}

/// String leaves outside sensitive keys, with the nearest enclosing key.
pub fn leaves(
    n: &Node,
    key: &str,
    out: &mut Vec<Leaf>,
    nums: &mut Vec<(u64, Option<Category>, Option<&'static str>)>,
) {
    match n {
        Node::Obj(fields) => {
            for (k, v) in fields {
                if !KEYS.is_sensitive(k) {
                    leaves(v, k, out, nums);
                }
            }
        }
        Node::Arr(items) => items.iter().for_each(|v| leaves(v, key, out, nums)),
        Node::Text(segs) => {
            let mut leaf = Leaf {
                key: key.to_owned(),
                text: String::new(),
                pii: Vec::new(),
                looks: Vec::new(),
            };
            for s in segs {
                let start = leaf.text.len();
                match s {
                    Seg::Lit(t) => leaf.text.push_str(t),
                    Seg::Pii(c, t) => {
                        leaf.text.push_str(t);
                        leaf.pii.push((start..leaf.text.len(), *c));
                    }
                    Seg::Look(k, t) => {
                        leaf.text.push_str(t);
                        leaf.looks.push((start..leaf.text.len(), k));
                    }
                }
            }
            out.push(leaf);
        }
        Node::Num(v, c, look) => nums.push((*v, *c, *look)),
        Node::Plain(_) => {}
    }
}
