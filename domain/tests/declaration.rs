//! What a model's declaration gives, seen from outside the crate as a service sees it: the
//! field schema, the strict request forms, the lenient stored form, and the rules.
#![allow(clippy::unwrap_used)]

use domain::{
    Admin, AdminChange, Customer, Edit, Entity, Kind, LineItem, Model, NewCustomer, Order,
    OrderChange, OrderStatus,
};
use serde_json::json;

const BRANCH: &str = "65f0a1b2c3d4e5f6a7b8c9d0";
const CUSTOMER: &str = "65f0a1b2c3d4e5f6a7b8c9d1";

fn new_order(body: serde_json::Value) -> Result<Order, String> {
    let order = Order::from_request(body).map_err(|e| e.to_string())?;
    order.admit().map_err(|e| e.to_string())
}

#[test]
fn the_field_schema_follows_from_the_struct_and_its_attributes() {
    let names: Vec<&str> = Order::FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        ["branchId", "customerId", "items", "status", "total"]
    );
    let [branch, _, items, status, total] = Order::FIELDS else {
        panic!("five fields");
    };
    assert_eq!(branch.kind, Kind::Reference("Branch"));
    assert!(branch.filter && branch.required_on_create && branch.edit == Edit::Fixed);
    assert_eq!(items.kind, Kind::Records(LineItem::FIELDS));
    assert_eq!(status.kind, Kind::Choice(OrderStatus::NAMES));
    assert!(status.filter && !status.required_on_create);
    assert_eq!(total.edit, Edit::Derived);
    assert!(branch.indexed && status.indexed && !items.indexed && !total.indexed);
    assert!(Admin::FIELDS
        .iter()
        .any(|f| f.name == "branchId" && f.optional));
    assert!(Admin::FIELDS
        .iter()
        .any(|f| f.name == "username" && f.unique));
}

#[test]
fn a_create_request_is_parsed_strictly_and_admitted_by_the_rules() {
    let items = json!([{ "sku": "BOLT", "quantity": 3, "unitPrice": 0.1 }]);
    let order = new_order(json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": items }));
    let order = order.unwrap();
    assert_eq!(order.status(), OrderStatus::Pending, "the declared default");
    assert_eq!(order.total(), 0.3, "derived by the rules");

    for (body, expected) in [
        (
            json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": items, "total": 1 }),
            "total",
        ),
        (
            json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": items, "$where": 1 }),
            "$where",
        ),
        (
            json!({ "branchId": "nope", "customerId": CUSTOMER, "items": items }),
            "branchId",
        ),
        (
            json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": [] }),
            "items",
        ),
        (
            json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": items, "status": "shipped" }),
            "status",
        ),
        (
            json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": [{ "sku": "B", "quantity": 0, "unitPrice": 1.0 }] }),
            "quantity",
        ),
    ] {
        let error = new_order(body).unwrap_err();
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn a_value_error_names_the_models_field_not_the_types() {
    let request: NewCustomer = serde_json::from_value(json!({
        "branchId": BRANCH, "name": "ACME", "email": "not-an-address", "phone": "+33 4 72 00 00 00",
    }))
    .unwrap();
    assert_eq!(
        Customer::from_new(request).unwrap_err().first().field(),
        "email"
    );
}

#[test]
fn a_request_is_answered_with_every_error_at_once_in_our_words() {
    let body = json!({
        "branchId": "nope", "customerId": CUSTOMER, "colour": "red",
        "items": [{ "sku": "B", "quantity": 0, "unitPrice": -1 }, { "sku": " ", "quantity": "3", "unitPrice": 1 }],
        "status": "completed",
    });
    let invalid = Order::from_request(body).unwrap_err();
    let errors: Vec<String> = invalid.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "colour: is not a field here; the fields are branchId, customerId, items, status",
            "branchId: must be an id of 24 hexadecimal characters",
            "items[0].quantity: must be at least 1",
            "items[0].unitPrice: must be at least 0",
            "items[1].sku: must not be empty",
            "items[1].quantity: must be a whole number",
            "status: must be pending when created",
        ],
    );
}

#[test]
fn field_attributes_narrow_the_rules_and_reach_the_declaration() {
    let [_, _, items, status, _] = Order::FIELDS else {
        panic!("five fields");
    };
    assert_eq!(
        (items.rules.min_items, items.rules.max_items),
        (Some(1), Some(100))
    );
    assert_eq!(status.initial, ["pending"]);
    assert!(items.rules.check(&json!([]), "items").is_err());
    let too_many = json!({ "branchId": BRANCH, "customerId": CUSTOMER,
        "items": vec![json!({ "sku": "B", "quantity": 1, "unitPrice": 1 }); 101] });
    assert!(new_order(too_many)
        .unwrap_err()
        .contains("at most 100 items"));
}

#[test]
fn callers_text_refuses_control_characters_and_bidirectional_overrides() {
    for name in [
        "C\u{0}x",
        "a\u{1b}[31mred",
        "two\nlines",
        "evil\u{202e}txt",
        "x\u{85}y",
    ] {
        let body = json!({ "branchId": BRANCH, "name": name, "email": "a@example.com", "phone": "+33 4 72 00 00 00" });
        let invalid = Customer::from_request(body).unwrap_err();
        assert_eq!(invalid.first().field(), "name", "{name:?}");
    }
    let body = json!({ "branchId": BRANCH, "name": "ACME", "email": "a\u{0}@example.com", "phone": "+33 4 72 00 00 00" });
    assert_eq!(
        Customer::from_request(body).unwrap_err().first().field(),
        "email"
    );
}

#[test]
fn a_change_tells_an_absent_field_from_a_null_one() {
    let stored: Admin = serde_json::from_value(json!({
        "username": "ada", "fullName": "Ada", "email": "ada@example.com", "branchId": BRANCH,
    }))
    .unwrap();
    let change = |body| Admin::patch_from(serde_json::from_value::<AdminChange>(body).unwrap());

    let kept = stored.apply(change(json!({ "fullName": "Ada L." })).unwrap());
    assert_eq!(kept.unwrap().branch_id().unwrap().to_string(), BRANCH);
    let cleared = stored.apply(change(json!({ "branchId": null })).unwrap());
    assert_eq!(cleared.unwrap().branch_id(), None);
}

#[test]
fn stored_values_are_read_as_they_are_and_a_total_is_recomputed_only_when_items_change() {
    let stored: Order = serde_json::from_value(json!({
        "branchId": BRANCH, "customerId": CUSTOMER, "status": "pending", "total": 9.5,
        "items": [{ "sku": "BOLT", "quantity": 2, "unitPrice": 5.0 }],
    }))
    .unwrap();
    let status = serde_json::from_value::<OrderChange>(json!({ "status": "in_production" }));
    let moved = stored.apply(Order::patch_from(status.unwrap()).unwrap());
    assert_eq!(
        moved.unwrap().total(),
        9.5,
        "a discount computed elsewhere stays"
    );

    let items = json!({ "items": [{ "sku": "BOLT", "quantity": 3, "unitPrice": 5.0 }] });
    let changed = stored.apply(Order::patch_from(serde_json::from_value(items).unwrap()).unwrap());
    assert_eq!(changed.unwrap().total(), 15.0);

    let legacy: Admin = serde_json::from_value(json!({
        "username": "ab", "fullName": "Ops", "email": "ops@localhost",
    }))
    .unwrap();
    assert_eq!(legacy.email().as_str(), "ops@localhost");
}

#[test]
fn every_models_example_passes_its_own_request_form_and_rules_and_differs_by_number() {
    fn check<T: Entity>() {
        let (one, two) = (T::example(1).unwrap(), T::example(2).unwrap());
        if !one.unique_keys().is_empty() {
            assert_ne!(one.unique_keys(), two.unique_keys(), "{}", T::NAME);
        }
        let request = serde_json::to_value(&one).unwrap();
        assert!(request.is_object(), "{}", T::NAME);
    }
    check::<domain::Branch>();
    check::<Customer>();
    check::<Order>();
    check::<domain::Machine>();
    check::<domain::MasterAdmin>();
    check::<Admin>();
    assert_eq!(
        Order::example(3).unwrap().total(),
        4.0 * 3.25,
        "one item: 4 at 3.25"
    );
}

#[test]
fn a_whole_number_written_with_a_zero_fraction_is_a_whole_number() {
    let items = |quantity| json!([{ "sku": "BOLT", "quantity": quantity, "unitPrice": 1 }]);
    let order =
        |quantity| json!({ "branchId": BRANCH, "customerId": CUSTOMER, "items": items(quantity) });
    assert_eq!(
        new_order(order(json!(3.0))).unwrap().items()[0]
            .quantity()
            .get(),
        3
    );
    let refused = new_order(order(json!(2.5))).unwrap_err();
    assert!(
        refused.contains("items[0].quantity: must be a whole number"),
        "{refused}"
    );
}

/// A model whose fields narrow their types' rules.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, domain::Model)]
struct Rated {
    #[model(min = 1, max = 5)]
    rating: Option<i64>,
    #[model(max_length = 3)]
    code: String,
}

#[test]
fn examples_fit_the_rules_a_field_narrows_and_requests_are_held_to_them() {
    for n in 0..10 {
        let rated = Rated::example(n).unwrap();
        assert!((1..=5).contains(&rated.rating.unwrap()), "{rated:?}");
    }
    let refused = Rated::from_request(json!({ "rating": 6, "code": "ABCD" })).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "rating: must be at most 5; code: must be at most 3 characters"
    );
    assert!(Rated::from_request(json!({ "rating": null, "code": "AB" })).is_ok());
}
