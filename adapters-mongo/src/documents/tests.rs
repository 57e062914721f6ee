use domain::{
    Admin, Branch, BranchName, Customer, CustomerName, Email, FullName, LineItem, Location,
    Machine, MachineName, MachineStatus, MasterAdmin, Order, OrderStatus, Phone, Quantity,
    SerialNumber, Sku, UnitPrice, Username,
};

use super::*;

/// `from_document` on the bytes of `document`, as the server would send them.
fn stored_record<T: Entity>(
    document: &Document,
    collection: &str,
) -> Result<Record<T>, RepositoryError> {
    let raw = mongodb::bson::RawDocumentBuf::from_document(document).unwrap();
    from_document(&raw, collection)
}

fn round_trip<T: Entity>(entity: T) -> Document {
    let record = Record::new(entity).saved();
    let document = to_document(&record).unwrap();
    let back: Record<T> = stored_record(&document, "test").unwrap();
    assert_eq!(back, record);
    document
}

fn order() -> Order {
    let item = |sku: &str, quantity, price| {
        LineItem::new(
            Sku::parse(sku).unwrap(),
            Quantity::parse(quantity).unwrap(),
            UnitPrice::parse(price).unwrap(),
        )
    };
    Order::new(
        Id::generate(),
        Id::generate(),
        vec![item("BOLT-M8", 3, 0.1), item("NUT-M8", 2, 19.99)],
        OrderStatus::InProduction,
    )
    .unwrap()
}

#[test]
fn every_entity_survives_a_round_trip_through_its_document() {
    round_trip(Branch::new(
        BranchName::parse("Lyon").unwrap(),
        Location::parse("Forge").unwrap(),
    ));
    round_trip(Customer::new(
        Id::generate(),
        CustomerName::parse("ACME").unwrap(),
        Email::parse("a@acme.example").unwrap(),
        Phone::parse("+33 4 72 00 00 00").unwrap(),
    ));
    round_trip(order());
    round_trip(Machine::new(
        Id::generate(),
        MachineName::parse("Press 1").unwrap(),
        SerialNumber::parse("SN-1").unwrap(),
        MachineStatus::Maintenance,
    ));
    round_trip(MasterAdmin::new(
        Username::parse("root").unwrap(),
        FullName::parse("Ada").unwrap(),
        Email::parse("ada@example.com").unwrap(),
    ));
    for branch in [None, Some(Id::generate())] {
        round_trip(Admin::new(
            Username::parse("boss").unwrap(),
            FullName::parse("Bo").unwrap(),
            Email::parse("bo@example.com").unwrap(),
            branch,
        ));
    }
}

#[test]
fn documents_have_the_mongoose_shape() {
    let document = round_trip(order());
    let keys: Vec<&str> = document.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "_id",
            "branchId",
            "customerId",
            "items",
            "status",
            "total",
            "createdAt",
            "updatedAt",
            "__v"
        ]
    );
    assert!(matches!(document.get("_id"), Some(Bson::ObjectId(_))));
    assert!(matches!(document.get("branchId"), Some(Bson::ObjectId(_))));
    assert!(matches!(document.get("createdAt"), Some(Bson::DateTime(_))));
    assert_eq!(document.get("__v"), Some(&Bson::Int32(1)));
    assert_eq!(document.get_f64("total").unwrap(), 40.28);
    let item = document.get_array("items").unwrap()[0]
        .as_document()
        .unwrap();
    let keys: Vec<&str> = item.keys().map(String::as_str).collect();
    assert_eq!(keys, ["_id", "sku", "quantity", "unitPrice"]);
    assert_eq!(item.get("quantity"), Some(&Bson::Int32(3)));
}

#[test]
fn a_mongoose_document_without_version_or_timestamps_reads_with_defaults() {
    let oid = ObjectId::new();
    let document = doc! {
        "_id": oid,
        "name": "Lyon",
        "location": "Forge",
        "legacyField": true,
    };
    let record: Record<Branch> = stored_record(&document, "test").unwrap();
    assert_eq!(record.version(), Version::INITIAL);
    assert_eq!(
        record.created_at().millis(),
        oid.timestamp().timestamp_millis()
    );
    assert_eq!(record.updated_at(), record.created_at());
}

#[test]
fn numbers_are_read_whatever_numeric_type_node_stored() {
    let document = doc! {
        "_id": ObjectId::new(),
        "branchId": ObjectId::new(),
        "customerId": ObjectId::new(),
        "items": [
            { "_id": ObjectId::new(), "sku": "A", "quantity": 2.0, "unitPrice": 5_i32 },
            { "sku": "B", "quantity": 1_i64, "unitPrice": 0.5 },
        ],
        "status": "pending",
        "total": 999.0,
        "__v": 3.0,
    };
    let record: Record<Order> = stored_record(&document, "test").unwrap();
    assert_eq!(record.entity().items()[0].quantity().get(), 2);
    assert_eq!(record.entity().items()[0].unit_price().get(), 5.0);
    assert_eq!(
        record.entity().total(),
        999.0,
        "the total is read as stored: only a change of items recomputes it"
    );
    assert_eq!(record.version(), Version::new(3));
}

#[test]
fn an_admin_branch_may_be_absent_or_null() {
    let document = doc! {
        "_id": ObjectId::new(),
        "username": "boss",
        "fullName": "Bo",
        "email": "bo@example.com",
        "branchId": Bson::Null,
    };
    let record: Record<Admin> = stored_record(&document, "test").unwrap();
    assert_eq!(record.entity().branch_id(), None);
}

#[test]
fn a_document_whose_declared_fields_have_another_shape_is_an_internal_error_naming_where() {
    let oid = ObjectId::new();
    let cases = [
        (doc! { "_id": oid, "name": 12, "location": "Forge" }, "name"),
        (doc! { "_id": oid, "location": "Forge" }, "name"),
        (
            doc! { "_id": oid, "name": "Lyon", "location": "Forge", "__v": -1 },
            "__v",
        ),
    ];
    for (document, field) in cases {
        let err = stored_record::<Branch>(&document, "branches").unwrap_err();
        let RepositoryError::Internal(message) = &err else {
            panic!("{err:?}");
        };
        assert!(
            message.contains("branches") && message.contains(&oid.to_hex()),
            "{message}"
        );
        assert!(message.contains(field), "{message}");
    }
}

#[test]
fn stored_values_that_requests_would_refuse_are_read_as_they_are() {
    let admin = doc! {
        "_id": ObjectId::new(), "username": "ab", "fullName": " ", "email": "ops@localhost",
    };
    let record: Record<Admin> = stored_record(&admin, "admins").unwrap();
    assert_eq!(record.entity().username().as_str(), "ab");
    assert_eq!(record.entity().email().as_str(), "ops@localhost");

    let order = doc! {
        "_id": ObjectId::new(), "branchId": ObjectId::new(), "customerId": ObjectId::new(),
        "items": [], "status": "pending", "total": 0,
    };
    let record: Record<Order> = stored_record(&order, "orders").unwrap();
    assert!(record.entity().items().is_empty());
}

#[test]
fn the_version_filter_of_version_zero_also_matches_a_missing_version() {
    let id = Id::<Branch>::generate();
    let filter = versioned_filter(id, Version::INITIAL);
    assert_eq!(
        filter.get_document("__v").unwrap(),
        &doc! { "$in": [0, Bson::Null] }
    );
    let filter = versioned_filter(id, Version::new(4));
    assert_eq!(filter.get("__v"), Some(&Bson::Int32(4)));
}

#[test]
fn an_entity_writes_only_its_declared_fields() {
    fn written<T: Entity>(entity: T) {
        for field in shape::write(&entity).unwrap().keys() {
            assert!(
                T::FIELDS.iter().any(|declared| declared.name == field),
                "{} writes {field}",
                T::NAME
            );
        }
    }
    written(order());
    written(Admin::new(
        Username::parse("ada").unwrap(),
        FullName::parse("Ada").unwrap(),
        Email::parse("ada@example.com").unwrap(),
        Some(Id::generate()),
    ));
}

#[test]
fn an_admin_without_a_branch_limit_is_written_without_the_field_as_mongoose_does() {
    let admin = Admin::new(
        Username::parse("ada").unwrap(),
        FullName::parse("Ada").unwrap(),
        Email::parse("ada@example.com").unwrap(),
        None,
    );
    assert!(!shape::write(&admin).unwrap().contains_key("branchId"));
}

#[test]
fn an_update_keeps_foreign_fields_and_drops_owned_fields_the_entity_no_longer_writes() {
    let stored =
        doc! { "_id": 1, "username": "ada", "branchId": 7, "password": "$2b$hash", "__v": 0 };
    let written = doc! { "_id": 1, "username": "ada", "__v": 1 };
    let merged = with_foreign_fields::<Admin>(stored, written);
    assert_eq!(
        merged,
        doc! { "_id": 1, "username": "ada", "__v": 1, "password": "$2b$hash" }
    );
}

#[test]
fn malformed_bytes_in_a_declared_field_are_an_error_naming_it_not_a_panic() {
    let document = doc! { "_id": ObjectId::new(), "name": "Lyon", "location": "Forge" };
    let mut bytes = mongodb::bson::RawDocumentBuf::from_document(&document)
        .unwrap()
        .into_bytes();
    // The string element `name`: type 0x02, the key, then the value's length, made far
    // longer than the document.
    let key = b"\x02name\x00";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    bytes[at..at + 4].copy_from_slice(&i32::MAX.to_le_bytes());
    let raw = mongodb::bson::RawDocumentBuf::from_bytes(bytes).unwrap();

    let err = from_document::<Branch>(&raw, "branches").unwrap_err();
    let RepositoryError::Internal(message) = err else {
        panic!("expected Internal, got {err:?}");
    };
    assert!(message.contains("branches"), "{message}");
    // Read as malformed, not as a missing field.
    assert!(message.contains("name: "), "{message}");
    assert!(message.contains("malformed"), "{message}");
}
