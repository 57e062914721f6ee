use serde::{Deserialize, Serialize};

use crate::branch::Branch;
use crate::customer::Customer;
use crate::entity::Entity;
use crate::error::{Problem, ValidationError};
use crate::id::Id;
use crate::model::{Kind, Model, Value};
use crate::rules::Rules;

crate::bounded_text!(
    /// A stock-keeping unit: the catalogue reference of what is ordered.
    Sku, field = "sku", max = 64, example = "SKU-{}"
);

/// How many units of an item are ordered: 1 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity of one line.
    pub const MAX: u32 = 1_000_000;

    /// Checks `value`.
    ///
    /// # Errors
    /// `quantity` is not positive or above [`Self::MAX`].
    pub fn parse(value: i64) -> Result<Self, ValidationError> {
        // An i64 beyond 2^53 rounds, but never into the bounds.
        <Self as Value>::RULES.check_number(value as f64, "quantity")?;
        u32::try_from(value)
            .map(Self)
            .map_err(|_| ValidationError::new("quantity", Problem::OutOfRange))
    }

    /// How many units the line orders.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// The price of one unit, in the company's currency: finite, from 0 to 1,000,000,000.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitPrice(f64);

impl UnitPrice {
    /// The largest unit price.
    pub const MAX: f64 = 1_000_000_000.0;

    /// Checks `value`.
    ///
    /// # Errors
    /// `unitPrice` is negative, not finite, or above [`Self::MAX`].
    pub fn parse(value: f64) -> Result<Self, ValidationError> {
        let finite = <f64 as Value>::parse(value, "unitPrice")?;
        <Self as Value>::RULES.check_number(finite, "unitPrice")?;
        Ok(Self(finite))
    }

    /// The price of one unit.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl Value for Quantity {
    type Input = i64;
    const KIND: Kind = Kind::Integer;
    const RULES: Rules = Rules::range(1.0, Quantity::MAX as f64);

    fn parse(input: i64, field: &'static str) -> Result<Self, ValidationError> {
        Quantity::parse(input).map_err(|e| ValidationError::new(field, e.problem().clone()))
    }

    fn example(n: u32) -> i64 {
        i64::from(n % 1_000 + 1)
    }
}

impl Value for UnitPrice {
    type Input = f64;
    const KIND: Kind = Kind::Number;
    const RULES: Rules = Rules::range(0.0, UnitPrice::MAX);

    fn parse(input: f64, field: &'static str) -> Result<Self, ValidationError> {
        UnitPrice::parse(input).map_err(|e| ValidationError::new(field, e.problem().clone()))
    }

    fn example(n: u32) -> f64 {
        f64::from(n % 1_000) + 0.25
    }
}

/// One line of an order. Stored as a sub-document of the order; an item whose `sku` is
/// unchanged keeps what the storage keeps beside it (Mongoose's item `_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    #[model(unique)]
    sku: Sku,
    quantity: Quantity,
    unit_price: UnitPrice,
}

impl LineItem {
    /// `quantity` units of `sku` at `unit_price` each.
    pub fn new(sku: Sku, quantity: Quantity, unit_price: UnitPrice) -> Self {
        Self {
            sku,
            quantity,
            unit_price,
        }
    }

    /// What is ordered.
    pub fn sku(&self) -> &Sku {
        &self.sku
    }

    /// How many.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// At what price each.
    pub fn unit_price(&self) -> UnitPrice {
        self.unit_price
    }

    fn amount(&self) -> f64 {
        f64::from(self.quantity.get()) * self.unit_price.get()
    }
}

crate::enumeration!(
    /// Where an order is in production.
    pub enum OrderStatus {
        /// Received; items may still change.
        Pending = "pending",
        /// Being made.
        InProduction = "in_production",
        /// Delivered; final.
        Completed = "completed",
        /// Called off; final.
        Cancelled = "cancelled",
    }
);

impl OrderStatus {
    /// Completed and cancelled orders do not change any more.
    pub const fn is_final(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }

    /// Whether an order may go from `self` to `next`: only forward (pending, in production,
    /// completed) or to cancelled, never back, never out of a final status.
    pub const fn may_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, _)
                | (InProduction, InProduction | Completed | Cancelled)
                | (Completed, Completed)
                | (Cancelled, Cancelled)
        )
    }
}

/// A customer's order at a branch. Its total is derived from its items, never set; it is
/// recomputed when the items change, and otherwise kept as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Model)]
#[serde(rename_all = "camelCase")]
#[model(rules)]
pub struct Order {
    #[model(fixed, filter, checked)]
    branch_id: Id<Branch>,
    #[model(fixed, filter, checked)]
    customer_id: Id<Customer>,
    #[model(min_items = 1, max_items = 100)]
    items: Vec<LineItem>,
    #[model(default, filter, initial = "pending")]
    status: OrderStatus,
    #[model(derived)]
    total: f64,
}

impl Order {
    /// An order of `items` by `customer_id` at `branch_id`.
    ///
    /// # Errors
    /// `items` breaks the field's declared count (1 to 100 lines).
    pub fn new(
        branch_id: Id<Branch>,
        customer_id: Id<Customer>,
        items: Vec<LineItem>,
        status: OrderStatus,
    ) -> Result<Self, ValidationError> {
        Self {
            branch_id,
            customer_id,
            items,
            status,
            total: 0.0,
        }
        .admit()
    }

    /// The branch that makes the order.
    pub fn branch_id(&self) -> Id<Branch> {
        self.branch_id
    }

    /// The customer who placed it.
    pub fn customer_id(&self) -> Id<Customer> {
        self.customer_id
    }

    /// The lines, in the order they were given.
    pub fn items(&self) -> &[LineItem] {
        &self.items
    }

    /// Where the order is in production.
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// The sum of quantity × unit price over the items, rounded to the cent.
    pub fn total(&self) -> f64 {
        self.total
    }
}

fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

impl Entity for Order {
    /// An order has as many items as its `items` field declares, and its total is theirs.
    fn admit(self) -> Result<Self, ValidationError> {
        let declared = Self::FIELDS.iter().filter(|f| f.name == "items");
        for field in declared {
            field.rules.check_items(self.items.len(), field.name)?;
        }
        let total = cents(self.items.iter().map(LineItem::amount).sum());
        Ok(Self { total, ..self })
    }

    /// The status only moves forward; items change only while pending, and only a change of
    /// items recomputes the total (a total a Node.js handler computed with a discount stays).
    fn apply(&self, patch: OrderPatch) -> Result<Self, ValidationError> {
        if patch
            .status
            .is_some_and(|next| !self.status.may_become(next))
        {
            let why = "can only move forward (pending, in_production, completed) or to cancelled";
            return Err(ValidationError::new("status", Problem::NotAllowed(why)));
        }
        if patch.items.is_none() {
            return Ok(self.patched(patch));
        }
        if self.status != OrderStatus::Pending {
            let why = "can only change while the order is pending";
            return Err(ValidationError::new("items", Problem::NotAllowed(why)));
        }
        self.patched(patch).admit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(quantity: i64, price: f64) -> LineItem {
        LineItem::new(
            Sku::parse("BOLT-M8").unwrap(),
            Quantity::parse(quantity).unwrap(),
            UnitPrice::parse(price).unwrap(),
        )
    }

    fn order(items: Vec<LineItem>, status: OrderStatus) -> Order {
        Order::new(Id::generate(), Id::generate(), items, status).unwrap()
    }

    #[test]
    fn the_total_is_the_sum_of_quantity_times_unit_price_rounded_to_the_cent() {
        let order = order(vec![item(3, 0.1), item(2, 19.99)], OrderStatus::Pending);
        assert_eq!(order.total(), 40.28);
    }

    #[test]
    fn zero_or_negative_quantities_and_negative_or_infinite_prices_are_rejected_naming_the_bound() {
        let below = Problem::Below { min: 1.0 };
        assert_eq!(Quantity::parse(0).unwrap_err().problem(), &below);
        assert_eq!(Quantity::parse(-5).unwrap_err().problem(), &below);
        let above = Problem::Above { max: 1e6 };
        assert_eq!(Quantity::parse(i64::MAX).unwrap_err().problem(), &above);
        assert_eq!(
            UnitPrice::parse(-1.0).unwrap_err().to_string(),
            "unitPrice: must be at least 0"
        );
        for bad in [-0.01, f64::INFINITY, f64::NAN, 2e9] {
            assert_eq!(
                UnitPrice::parse(bad).unwrap_err().field(),
                "unitPrice",
                "{bad}"
            );
        }
    }

    #[test]
    fn an_order_needs_at_least_one_item() {
        let err = Order::new(Id::generate(), Id::generate(), vec![], OrderStatus::Pending);
        assert_eq!(err.unwrap_err().field(), "items");
    }

    #[test]
    fn changing_items_recomputes_the_total() {
        let patch = OrderPatch {
            items: Some(vec![item(10, 2.5)]),
            status: None,
        };
        let changed = order(vec![item(1, 1.0)], OrderStatus::Pending)
            .apply(patch)
            .unwrap();
        assert_eq!(changed.total(), 25.0);
    }

    #[test]
    fn items_are_frozen_once_production_starts() {
        let patch = OrderPatch {
            items: Some(vec![item(10, 2.5)]),
            status: None,
        };
        let err = order(vec![item(1, 1.0)], OrderStatus::InProduction).apply(patch);
        assert_eq!(err.unwrap_err().field(), "items");
    }

    #[test]
    fn an_order_in_production_cannot_go_back_to_pending_to_reopen_its_items() {
        let patch = OrderPatch {
            items: None,
            status: Some(OrderStatus::Pending),
        };
        let err = order(vec![item(1, 1.0)], OrderStatus::InProduction).apply(patch);
        assert_eq!(err.unwrap_err().field(), "status");
    }

    #[test]
    fn statuses_move_forward_or_to_cancelled_and_stay_put_once_final() {
        use OrderStatus::*;
        assert!(Pending.may_become(InProduction) && Pending.may_become(Cancelled));
        assert!(InProduction.may_become(Completed) && InProduction.may_become(InProduction));
        assert!(!InProduction.may_become(Pending));
        assert!(!Completed.may_become(Cancelled) && !Cancelled.may_become(Pending));
        assert!(Completed.may_become(Completed));
    }

    #[test]
    fn every_status_is_parsed_back_from_its_name_and_others_are_rejected() {
        for &status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>().unwrap(), status);
        }
        assert!("shipped".parse::<OrderStatus>().is_err());
    }

    #[test]
    fn a_completed_order_cannot_be_reopened() {
        let patch = OrderPatch {
            items: None,
            status: Some(OrderStatus::Pending),
        };
        let err = order(vec![item(1, 1.0)], OrderStatus::Completed).apply(patch);
        assert_eq!(err.unwrap_err().field(), "status");
    }
}
