//! Rule validation and in-place application.

use super::*;

fn rule(path: &str) -> ScrubRule {
    ScrubRule {
        path: path.to_owned(),
        replacement: json!("[GONE]"),
    }
}

#[test]
fn whole_document_spellings_are_rejected() {
    for p in [
        "$",
        "$..*",
        "$.*..*",
        "$..[*]",
        "$[*]",
        "$.*",
        "$[?@]",
        "$[?!@.zz_nope]",
        "$..*..*",
        "$[*,*]",
    ] {
        let err = RuleSet::new(vec![rule(p)]).err();
        assert!(
            matches!(err, Some(RuleError::WholeDocument { .. })),
            "{p}: {err:?}"
        );
    }
}

#[test]
fn invalid_paths_are_rejected_with_detail() {
    for p in [
        "",
        "user.password",
        "$.[",
        "$..",
        "$[?@.a ==]",
        "$['unterminated]",
    ] {
        match RuleSet::new(vec![rule(p)]) {
            Err(RuleError::InvalidPath { path, detail }) => {
                assert_eq!(path, p);
                assert!(!detail.is_empty());
            }
            other => panic!("{p}: {other:?}"),
        }
    }
}

#[test]
fn ordinary_rules_are_accepted_and_applied() {
    let rules = RuleSet::new(vec![
        rule("$.customer.tax_id"),
        rule("$.items[*].serial"),
        rule("$..[?@.kind == 'secret'].value"),
    ])
    .expect("valid rules");
    let mut doc = json!({
        "customer": {"tax_id": "DE123", "name": "n"},
        "items": [{"serial": "a"}, {"serial": "b"}, {"other": 1}],
        "deep": {"x": [{"kind": "secret", "value": {"k": 1}}]}
    });
    assert_eq!(rules.apply(&mut doc), 4);
    assert_eq!(doc["customer"]["tax_id"], "[GONE]");
    assert_eq!(doc["customer"]["name"], "n");
    assert_eq!(doc["items"][1]["serial"], "[GONE]");
    assert_eq!(doc["deep"]["x"][0]["value"], "[GONE]");
}

#[test]
fn ancestor_and_descendant_both_selected_does_not_fail() {
    let rules = RuleSet::new(vec![rule("$.a..*")]).expect("valid");
    let mut doc = json!({"a": {"b": {"c": 1}}, "keep": 2});
    assert!(rules.apply(&mut doc) >= 1);
    assert_eq!(doc["a"]["b"], "[GONE]");
    assert_eq!(doc["keep"], 2);
}

#[test]
fn display_is_human() {
    let e = RuleSet::new(vec![rule("$..*")])
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some(
            "scrub rule path \"$..*\" selects the whole document; name the fields to replace instead"
        )
    );
}
