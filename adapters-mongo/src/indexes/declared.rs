//! The one builder of declared indexes, and the one translation between the shared words
//! ([`IndexSpec`]) and the driver's ([`IndexModel`], a key pattern [`Document`]).
//!
//! A model declares its indexes through its fields: unique for `unique` fields, plain for
//! `filter` and `index` fields, each ascending on one field. Another collection (the
//! idempotency records) writes its [`IndexSpec`]s itself. Either way, what is created, compared
//! and shown is the same [`IndexSpec`]; only [`to_model`] turns one into what the driver
//! sends.

use domain::Model;
use mongodb::bson::{Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;
use ports::{IndexKey, IndexSpec, KeyOrder};

/// The model's indexes, in the order of its fields: one per indexed field, ascending, unique
/// for `unique` fields. Unnamed: the driver names them `<field>_1`, as Mongoose does.
pub(crate) fn of_model<T: Model>() -> Vec<IndexSpec> {
    T::FIELDS
        .iter()
        .filter(|field| field.indexed)
        .map(|field| {
            let index = IndexSpec::new(vec![IndexKey::ascending(field.name)]);
            if field.unique {
                index.unique()
            } else {
                index
            }
        })
        .collect()
}

/// The model's `unique` fields.
pub(crate) fn unique_fields<T: Model>() -> impl Iterator<Item = &'static str> {
    T::FIELDS.iter().filter(|f| f.unique).map(|f| f.name)
}

/// The index to create for `index`, as declared: options only where it has some, no name.
pub(crate) fn to_model(index: &IndexSpec) -> IndexModel {
    let options = (index.unique || index.expire_after.is_some()).then(|| {
        IndexOptions::builder()
            .unique(index.unique.then_some(true))
            .expire_after(index.expire_after)
            .build()
    });
    IndexModel::builder()
        .keys(key_pattern(&index.keys))
        .options(options)
        .build()
}

/// An index as the server lists it, with its name.
pub(crate) fn from_model(model: IndexModel) -> IndexSpec {
    let options = model.options.as_ref();
    let mut index = IndexSpec::new(index_keys(&model.keys));
    index.name = options.and_then(|o| o.name.clone());
    index.unique = options.and_then(|o| o.unique) == Some(true);
    index.expire_after = options.and_then(|o| o.expire_after);
    index
}

/// The keys of a MongoDB key pattern (`{ name: 1, at: -1 }`), as [`IndexSpec`] holds and
/// compares them: `1`, `1.0` and `1_i64` are all [`KeyOrder::Ascending`], as the server
/// stores whichever number it was given.
pub fn index_keys(pattern: &Document) -> Vec<IndexKey> {
    pattern
        .iter()
        .map(|(field, value)| IndexKey {
            field: field.clone(),
            order: order(value),
        })
        .collect()
}

fn order(value: &Bson) -> KeyOrder {
    match (number(value), value) {
        (Some(1.0), _) => KeyOrder::Ascending,
        (Some(-1.0), _) => KeyOrder::Descending,
        (None, Bson::String(kind)) => KeyOrder::Kind(kind.clone()),
        (_, other) => KeyOrder::Other(other.to_string()),
    }
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        // Index directions are small numbers: no precision is lost.
        #[allow(clippy::cast_precision_loss)]
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    }
}

/// The key pattern the driver sends for `keys`.
fn key_pattern(keys: &[IndexKey]) -> Document {
    keys.iter()
        .map(|key| {
            let value = match &key.order {
                KeyOrder::Ascending => Bson::Int32(1),
                KeyOrder::Descending => Bson::Int32(-1),
                KeyOrder::Kind(kind) => Bson::String(kind.clone()),
                // Only read back from a server, never declared: sent as the number it shows.
                KeyOrder::Other(shown) => shown
                    .parse::<i32>()
                    .map(Bson::Int32)
                    .or_else(|_| shown.parse::<f64>().map(Bson::Double))
                    .unwrap_or_else(|_| Bson::String(shown.clone())),
                _ => Bson::Int32(1),
            };
            (key.field.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use domain::{Branch, Order};
    use mongodb::bson::doc;

    use super::*;

    #[test]
    fn a_model_declares_one_ascending_index_per_indexed_field_unique_where_declared() {
        let branches = of_model::<Branch>();
        assert_eq!(branches[0].to_string(), "{name: 1} unique");
        let orders: Vec<String> = of_model::<Order>().iter().map(|i| i.to_string()).collect();
        for field in ["branchId", "customerId", "status"] {
            assert!(orders.contains(&format!("{{{field}: 1}}")), "{orders:?}");
        }
        assert!(!orders.iter().any(|i| i.contains("total")), "{orders:?}");
    }

    #[test]
    fn a_declared_index_is_sent_as_mongoose_would_send_it() {
        let unique = to_model(&of_model::<Branch>()[0]);
        assert_eq!(unique.keys, doc! { "name": 1 });
        let options = unique.options.unwrap();
        assert_eq!((options.unique, options.name), (Some(true), None));

        let plain = IndexSpec::new(vec![IndexKey::ascending("status")]);
        assert!(to_model(&plain).options.is_none());

        let ttl =
            IndexSpec::new(vec![IndexKey::ascending("expiresAt")]).expiring_after(Duration::ZERO);
        let options = to_model(&ttl).options.unwrap();
        assert_eq!(
            (options.unique, options.expire_after),
            (None, Some(Duration::ZERO))
        );
    }

    #[test]
    fn key_orders_read_from_the_server_compare_by_value_and_go_back_as_they_came() {
        let pattern = doc! { "a": 1.0, "b": -1_i64, "c": "text", "d": 2 };
        let keys = index_keys(&pattern);
        assert_eq!(
            keys.iter().map(|k| k.order.clone()).collect::<Vec<_>>(),
            [
                KeyOrder::Ascending,
                KeyOrder::Descending,
                KeyOrder::Kind("text".into()),
                KeyOrder::Other("2".into())
            ]
        );
        assert_eq!(
            keys,
            index_keys(&doc! { "a": 1, "b": -1, "c": "text", "d": 2.0 })
        );
        assert_eq!(
            key_pattern(&keys),
            doc! { "a": 1, "b": -1, "c": "text", "d": 2 }
        );
        let found = from_model(
            IndexModel::builder()
                .keys(pattern)
                .options(IndexOptions::builder().name("x".to_owned()).build())
                .build(),
        );
        assert_eq!(found.to_string(), "{a: 1, b: -1, c: \"text\", d: 2} (x)");
    }
}
