//! Known-good and known-bad values for every validator.

use super::*;

#[test]
fn luhn_and_networks() {
    for n in [
        "4111111111111111",
        "5500005555555559",
        "378282246310005",
        "6011111111111117",
        "30569309025904",
        "2223003122003222",
    ] {
        let d = digits(n);
        assert!(luhn_ok(&d) && card_network_ok(&d), "{n}");
    }
    assert!(!luhn_ok(&digits("4111111111111112")));
    // Luhn-valid but no network starts with 9.
    assert!(!card_network_ok(&digits("9111111111111110")));
}

#[test]
fn ssn_rules() {
    assert!(ssn_ok(&digits("536-22-1234")));
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "123-00-4567",
        "123-45-0000",
    ] {
        assert!(!ssn_ok(&digits(bad)), "{bad}");
    }
}

#[test]
fn iban_mod97() {
    assert!(iban_ok("GB82WEST12345698765432"));
    assert!(iban_ok("DE89370400440532013000"));
    assert!(!iban_ok("GB82WEST12345698765433"));
    assert!(!iban_ok("GB82WEST1234569876543"));
    assert!(!iban_ok("ZZ82WEST12345698765432"));
}

#[test]
fn ipv4_octets() {
    assert!(ipv4_ok("192.168.0.1"));
    assert!(!ipv4_ok("256.1.1.1"));
    assert!(!ipv4_ok("10.01.0.1"));
    assert!(!ipv4_ok("1.2.3"));
}

#[test]
fn bitcoin_addresses() {
    assert!(base58check_address_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
    assert!(base58check_address_ok("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
    assert!(!base58check_address_ok(
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"
    ));
    assert!(bech32_address_ok(
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    ));
    assert!(bech32_address_ok(
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
    ));
    assert!(!bech32_address_ok(
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"
    ));
}

#[test]
fn base64_both_alphabets() {
    assert_eq!(
        base64_decode("dXNlcjpwYXNz").as_deref(),
        Some(&b"user:pass"[..])
    );
    assert_eq!(
        base64_decode("eyJhIjoxfQ").as_deref(),
        Some(&br#"{"a":1}"#[..])
    );
    assert_eq!(base64_decode("a*b"), None);
}
