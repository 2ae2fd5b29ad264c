//! The checks and the refusal that names one and its values.

use core::fmt;
use kestrel_core::Price;

/// A pre-trade check (its code is the `reason` of a risk-rejected execution report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RiskCheck {
    /// The kill switch is tripped.
    KillSwitch = 1,
    /// The venue link is not ready.
    VenueDown = 2,
    /// The instrument is halted or not trading.
    Halted = 3,
    /// Malformed order: zero shares, a non-positive price, an unknown instrument.
    BadOrder = 4,
    /// Order size above the limit.
    MaxOrderQty = 5,
    /// Order notional above the limit.
    MaxNotional = 6,
    /// No two-sided book to check the price against.
    NoReference = 7,
    /// Limit price too far from the mid.
    PriceBand = 8,
    /// Position after the worst-case fill of every open order beyond the limit.
    PositionLimit = 9,
    /// Too many open orders.
    OpenOrders = 10,
    /// Too many open orders on the instrument and side.
    OpenOrdersSide = 11,
    /// Would trade against one of our own resting orders.
    SelfTrade = 12,
    /// Order rate above the throttle.
    RateLimit = 13,
}

impl RiskCheck {
    /// Number of codes (including the unused 0).
    pub const COUNT: usize = 14;

    /// Every check, in evaluation order.
    pub const ALL: [RiskCheck; 13] = [
        RiskCheck::KillSwitch,
        RiskCheck::VenueDown,
        RiskCheck::Halted,
        RiskCheck::BadOrder,
        RiskCheck::MaxOrderQty,
        RiskCheck::MaxNotional,
        RiskCheck::NoReference,
        RiskCheck::PriceBand,
        RiskCheck::PositionLimit,
        RiskCheck::OpenOrders,
        RiskCheck::OpenOrdersSide,
        RiskCheck::SelfTrade,
        RiskCheck::RateLimit,
    ];

    /// The check's name.
    pub const fn name(self) -> &'static str {
        match self {
            RiskCheck::KillSwitch => "kill_switch",
            RiskCheck::VenueDown => "venue_down",
            RiskCheck::Halted => "halted",
            RiskCheck::BadOrder => "bad_order",
            RiskCheck::MaxOrderQty => "max_order_qty",
            RiskCheck::MaxNotional => "max_notional",
            RiskCheck::NoReference => "no_reference_price",
            RiskCheck::PriceBand => "price_band",
            RiskCheck::PositionLimit => "position_limit",
            RiskCheck::OpenOrders => "open_orders",
            RiskCheck::OpenOrdersSide => "open_orders_side",
            RiskCheck::SelfTrade => "self_trade",
            RiskCheck::RateLimit => "rate_limit",
        }
    }

    /// From its code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|c| *c as u8 == code)
    }
}

/// A refused order: the check that refused it and the values compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RiskReject {
    /// The check.
    pub check: RiskCheck,
    /// The order's value (shares, notional or price raw, position, count, ...).
    pub value: i64,
    /// The limit it was compared with.
    pub limit: i64,
    /// A reference value when the check has one (the mid for the price band; else 0).
    pub reference: i64,
}

impl RiskReject {
    /// A refusal with no reference value.
    pub const fn new(check: RiskCheck, value: i64, limit: i64) -> Self {
        Self {
            check,
            value,
            limit,
            reference: 0,
        }
    }

    /// With a reference value.
    pub const fn with_reference(mut self, reference: i64) -> Self {
        self.reference = reference;
        self
    }
}

impl fmt::Display for RiskReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = |raw: i64| Price::from_raw(raw);
        let name = self.check.name();
        match self.check {
            RiskCheck::KillSwitch => write!(f, "{name}: the kill switch is tripped"),
            RiskCheck::VenueDown => write!(f, "{name}: the venue session is not logged in"),
            RiskCheck::Halted => write!(f, "{name}: instrument {} is not trading", self.value),
            RiskCheck::BadOrder => write!(
                f,
                "{name}: shares {} at price {}",
                self.value,
                p(self.reference)
            ),
            RiskCheck::MaxOrderQty => {
                write!(
                    f,
                    "{name}: {} shares exceeds the limit of {}",
                    self.value, self.limit
                )
            }
            RiskCheck::MaxNotional => write!(
                f,
                "{name}: notional {} exceeds the limit of {}",
                p(self.value),
                p(self.limit)
            ),
            RiskCheck::NoReference => {
                write!(
                    f,
                    "{name}: no two-sided book to check price {} against",
                    p(self.value)
                )
            }
            RiskCheck::PriceBand => {
                let bps = if self.reference != 0 {
                    (i128::from((self.value - self.reference).abs()) * 10_000)
                        / i128::from(self.reference)
                } else {
                    0
                };
                write!(
                    f,
                    "{name}: price {} is {bps} bps from the mid {} (band {} bps)",
                    p(self.value),
                    p(self.reference),
                    self.limit
                )
            }
            RiskCheck::PositionLimit => write!(
                f,
                "{name}: worst-case position {} shares exceeds the limit of {}",
                self.value, self.limit
            ),
            RiskCheck::OpenOrders => {
                write!(
                    f,
                    "{name}: {} open orders, limit {}",
                    self.value, self.limit
                )
            }
            RiskCheck::OpenOrdersSide => write!(
                f,
                "{name}: {} open orders on this instrument and side, limit {}",
                self.value, self.limit
            ),
            RiskCheck::SelfTrade => write!(
                f,
                "{name}: price {} would trade against our resting order at {}",
                p(self.value),
                p(self.limit)
            ),
            RiskCheck::RateLimit => write!(
                f,
                "{name}: above {} orders per second (burst {})",
                self.value, self.limit
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_messages_name_values() {
        for c in RiskCheck::ALL {
            assert_eq!(RiskCheck::from_code(c as u8), Some(c));
            assert!((c as usize) < RiskCheck::COUNT);
        }
        let r = RiskReject::new(RiskCheck::PriceBand, 110 * 100_000_000, 500)
            .with_reference(100 * 100_000_000);
        assert_eq!(
            r.to_string(),
            "price_band: price 110 is 1000 bps from the mid 100 (band 500 bps)"
        );
        let r = RiskReject::new(RiskCheck::MaxOrderQty, 5000, 1000);
        assert_eq!(
            r.to_string(),
            "max_order_qty: 5000 shares exceeds the limit of 1000"
        );
    }
}
