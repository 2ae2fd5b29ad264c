//! Order and book sides.

/// The side of an order or a book.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum Side {
    /// Bid.
    #[default]
    Buy = 0,
    /// Ask / offer.
    Sell = 1,
}

impl Side {
    /// The other side.
    #[inline]
    pub const fn opposite(self) -> Self {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for buy, -1 for sell.
    #[inline]
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }

    /// 0 for buy, 1 for sell: an index into `[bids, asks]` arrays.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }
}
