use domain::{LineItem, Order, OrderStatus, Quantity, Sku, UnitPrice};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document};

use super::fields::{array, id, integer, number, object_id, string, subdocument};
use super::{DocumentError, MongoEntity};

impl MongoEntity for Order {
    const COLLECTION: &'static str = "orders";
    const FIELDS: &'static [&'static str] = &["branchId", "customerId", "items", "status", "total"];

    /// Items are sub-documents `{_id, sku, quantity, unitPrice}`, with an `_id` each as
    /// Mongoose gives array sub-documents. The domain does not keep item ids: a new item gets a
    /// new one, and an update keeps the stored item's (see `carry_over_nested`). `total` is
    /// stored for readers that expect it, and recomputed on read.
    fn write_fields(&self, document: &mut Document) {
        let items: Vec<Bson> = self
            .items()
            .iter()
            .map(|item| {
                Bson::Document(doc! {
                    "_id": ObjectId::new(),
                    "sku": item.sku().as_str(),
                    "quantity": quantity(item.quantity()),
                    "unitPrice": item.unit_price().get(),
                })
            })
            .collect();
        document.insert("branchId", object_id(self.branch_id()));
        document.insert("customerId", object_id(self.customer_id()));
        document.insert("items", items);
        document.insert("status", self.status().as_str());
        document.insert("total", self.total());
    }

    /// An item saved at the index of a stored item with the same `sku` keeps that item's `_id`
    /// and the fields the domain does not model (a description, a discount).
    fn carry_over_nested(stored: &Document, written: &mut Document) {
        let (Ok(before), Ok(after)) = (stored.get_array("items"), written.get_array_mut("items"))
        else {
            return;
        };
        for (old, new) in before.iter().zip(after.iter_mut()) {
            let (Bson::Document(old), Bson::Document(new)) = (old, new) else {
                continue;
            };
            if old.get("sku") == new.get("sku") {
                let mut merged = old.clone();
                merged.extend(
                    std::mem::take(new)
                        .into_iter()
                        .filter(|(key, _)| key != "_id"),
                );
                *new = merged;
            }
        }
    }

    fn read_fields(document: &Document) -> Result<Self, DocumentError> {
        let items = array(document, "items")?
            .iter()
            .enumerate()
            .map(|(index, value)| item(subdocument(value, &format!("items.{index}"))?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Order::new(
            id(document, "branchId")?,
            id(document, "customerId")?,
            items,
            status(string(document, "status")?)?,
        )?)
    }
}

/// Int32, as Node.js stores a whole number.
fn quantity(quantity: Quantity) -> Bson {
    match i32::try_from(quantity.get()) {
        Ok(n) => Bson::Int32(n),
        Err(_) => Bson::Int64(i64::from(quantity.get())),
    }
}

fn item(document: &Document) -> Result<LineItem, DocumentError> {
    Ok(LineItem::new(
        Sku::parse(string(document, "sku")?)?,
        Quantity::parse(integer(document, "quantity")?)?,
        UnitPrice::parse(number(document, "unitPrice")?)?,
    ))
}

fn status(text: &str) -> Result<OrderStatus, DocumentError> {
    Ok(text.parse::<OrderStatus>()?)
}
