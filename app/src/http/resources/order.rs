use domain::{LineItem, Order, OrderPatch, OrderStatus, Quantity, Sku, UnitPrice, ValidationError};
use serde::Deserialize;

use super::{id_field, optional, Resource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewOrder {
    branch_id: String,
    customer_id: String,
    items: Vec<LineItemBody>,
    /// Pending when absent.
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LineItemBody {
    sku: String,
    quantity: i64,
    unit_price: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderChange {
    items: Option<Vec<LineItemBody>>,
    status: Option<String>,
}

fn line_items(items: Vec<LineItemBody>) -> Result<Vec<LineItem>, ValidationError> {
    items
        .into_iter()
        .map(|item| {
            Ok(LineItem::new(
                Sku::parse(item.sku)?,
                Quantity::parse(item.quantity)?,
                UnitPrice::parse(item.unit_price)?,
            ))
        })
        .collect()
}

impl Resource for Order {
    type Create = NewOrder;
    type Update = OrderChange;

    fn create(body: NewOrder) -> Result<Self, ValidationError> {
        Order::new(
            id_field("branchId", &body.branch_id)?,
            id_field("customerId", &body.customer_id)?,
            line_items(body.items)?,
            optional(body.status, |s| s.parse())?.unwrap_or(OrderStatus::Pending),
        )
    }

    fn patch(body: OrderChange) -> Result<OrderPatch, ValidationError> {
        Ok(OrderPatch {
            items: optional(body.items, line_items)?,
            status: optional(body.status, |s| s.parse())?,
        })
    }
}
