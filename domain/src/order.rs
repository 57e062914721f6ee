use std::fmt;

use std::str::FromStr;

use serde::Serialize;

use crate::branch::Branch;
use crate::customer::Customer;
use crate::entity::Entity;
use crate::error::{Problem, ValidationError};
use crate::id::Id;
use crate::text::{bounded_text, one_of};

bounded_text!(
    /// A stock-keeping unit: the catalogue reference of what is ordered.
    Sku, field = "sku", max = 64
);

/// How many units of an item are ordered: 1 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
        match u32::try_from(value) {
            Ok(0) => Err(ValidationError::new("quantity", Problem::NotPositive)),
            Ok(q) if q <= Self::MAX => Ok(Self(q)),
            Err(_) if value < 0 => Err(ValidationError::new("quantity", Problem::NotPositive)),
            _ => Err(ValidationError::new("quantity", Problem::OutOfRange)),
        }
    }

    /// The number of units.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// The price of one unit, in the company's currency: finite, from 0 to 1,000,000,000.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
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
        if value.is_finite() && (0.0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ValidationError::new("unitPrice", Problem::OutOfRange))
        }
    }

    /// The amount.
    pub const fn get(self) -> f64 {
        self.0
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
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

/// Where an order is in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Received; items may still change.
    Pending,
    /// Being made.
    InProduction,
    /// Delivered; final.
    Completed,
    /// Called off; final.
    Cancelled,
}

impl OrderStatus {
    /// Every status, in production order.
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::InProduction,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    /// The name used by the API and the storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::InProduction => "in_production",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

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

impl FromStr for OrderStatus {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        one_of(
            &Self::ALL,
            Self::as_str,
            text,
            "one of pending, in_production, completed, cancelled",
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer's order at a branch. Its total is derived from its items, never set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    branch_id: Id<Branch>,
    customer_id: Id<Customer>,
    items: Vec<LineItem>,
    status: OrderStatus,
    total: f64,
}

/// A change to an [`Order`]; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderPatch {
    /// The new items (only while the order is pending).
    pub items: Option<Vec<LineItem>>,
    /// The new status (not once the order is completed or cancelled).
    pub status: Option<OrderStatus>,
}

impl Order {
    /// The most lines one order may have.
    pub const MAX_ITEMS: usize = 100;

    /// An order of `items` by `customer_id` at `branch_id`.
    ///
    /// # Errors
    /// `items` is empty or has more than [`Self::MAX_ITEMS`] lines.
    pub fn new(
        branch_id: Id<Branch>,
        customer_id: Id<Customer>,
        items: Vec<LineItem>,
        status: OrderStatus,
    ) -> Result<Self, ValidationError> {
        if items.is_empty() {
            return Err(ValidationError::new("items", Problem::Empty));
        }
        if items.len() > Self::MAX_ITEMS {
            return Err(ValidationError::new("items", Problem::OutOfRange));
        }
        let total = cents(items.iter().map(LineItem::amount).sum());
        Ok(Self {
            branch_id,
            customer_id,
            items,
            status,
            total,
        })
    }

    /// The branch that makes the order.
    pub fn branch_id(&self) -> Id<Branch> {
        self.branch_id
    }

    /// The customer who placed it.
    pub fn customer_id(&self) -> Id<Customer> {
        self.customer_id
    }

    /// The lines.
    pub fn items(&self) -> &[LineItem] {
        &self.items
    }

    /// The status.
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
    const NAME: &'static str = "Order";
    const UNIQUE_FIELD: Option<&'static str> = None;
    type Patch = OrderPatch;

    fn unique_value(&self) -> Option<&str> {
        None
    }

    fn apply(&self, patch: OrderPatch) -> Result<Self, ValidationError> {
        if patch
            .status
            .is_some_and(|next| !self.status.may_become(next))
        {
            let why = "can only move forward (pending, in_production, completed) or to cancelled";
            return Err(ValidationError::new("status", Problem::NotAllowed(why)));
        }
        if patch.items.is_some() && self.status != OrderStatus::Pending {
            let why = "can only change while the order is pending";
            return Err(ValidationError::new("items", Problem::NotAllowed(why)));
        }
        Order::new(
            self.branch_id,
            self.customer_id,
            patch.items.unwrap_or_else(|| self.items.clone()),
            patch.status.unwrap_or(self.status),
        )
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
    fn zero_or_negative_quantities_and_negative_or_infinite_prices_are_rejected() {
        assert_eq!(
            Quantity::parse(0).unwrap_err().problem(),
            &Problem::NotPositive
        );
        assert_eq!(
            Quantity::parse(-5).unwrap_err().problem(),
            &Problem::NotPositive
        );
        assert_eq!(
            Quantity::parse(i64::MAX).unwrap_err().problem(),
            &Problem::OutOfRange
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
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>().unwrap(), status);
        }
        assert_eq!(
            "shipped".parse::<OrderStatus>().unwrap_err().field(),
            "status"
        );
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
