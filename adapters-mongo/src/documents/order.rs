use domain::{LineItem, Order, OrderStatus, Quantity, Sku, UnitPrice};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document};

use super::fields::{array, id, integer, number, object_id, string, subdocument};
use super::{DocumentError, MongoEntity};

impl MongoEntity for Order {
    const COLLECTION: &'static str = "orders";
    const FIELDS: &'static [&'static str] = &["branchId", "customerId", "items", "status", "total"];

    /// Items are sub-documents `{_id, sku, quantity, unitPrice}`, with an `_id` each as
    /// Mongoose gives array sub-documents; the domain does not keep item ids, so they are new
    /// on every save. `total` is stored for readers that expect it, and recomputed on read.
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
    [
        OrderStatus::Pending,
        OrderStatus::InProduction,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ]
    .into_iter()
    .find(|status| status.as_str() == text)
    .ok_or_else(|| DocumentError::WrongType {
        field: "status".into(),
        expected: "one of pending, in_production, completed, cancelled",
        found: text.chars().take(32).collect(),
    })
}
