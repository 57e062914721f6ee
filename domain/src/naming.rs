//! The names that follow from a model's name, by the rules Mongoose users know.

/// The plural of a model's name in lower camel case, as the API and by-name lookups name a
/// collection of models: `Branch` → `branches`, `MasterAdmin` → `masterAdmins`,
/// `Category` → `categories`.
pub fn plural_name(model: &str) -> String {
    let mut chars = model.chars();
    let lower_first: String = chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default();
    pluralize(&lower_first)
}

/// English plural of the last word, with the regular rules Mongoose's pluralisation applies to
/// the common cases: `-s`, `-x`, `-z`, `-ch`, `-sh` take `-es`; a consonant before `-y`
/// becomes `-ies`; everything else takes `-s`.
fn pluralize(word: &str) -> String {
    const SIBILANTS: [&str; 5] = ["s", "x", "z", "ch", "sh"];
    if SIBILANTS.iter().any(|end| word.ends_with(end)) {
        return format!("{word}es");
    }
    let before_y = word.strip_suffix('y');
    match before_y.and_then(|stem| stem.chars().last()) {
        Some(c) if !"aeiou".contains(c) => format!("{}ies", &word[..word.len() - 1]),
        _ => format!("{word}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_names_follow_the_regular_english_rules_in_lower_camel_case() {
        for (model, plural) in [
            ("Branch", "branches"),
            ("MasterAdmin", "masterAdmins"),
            ("Order", "orders"),
            ("Category", "categories"),
            ("Key", "keys"),
            ("Box", "boxes"),
            ("Invoice", "invoices"),
        ] {
            assert_eq!(plural_name(model), plural, "{model}");
        }
    }
}
