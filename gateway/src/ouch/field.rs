//! How each OUCH field type reads from and writes to its wire bytes.

use super::types::{
    BuySell, EventCode, Firm, InvalidCode, IsoEligibility, OrderState, Price4, Stock, Token,
};

/// A field's conversion from and to its big-endian wire bytes. Coded alpha fields reject bytes
/// outside their code set; everything else accepts any bytes.
pub(crate) trait WireField: Copy {
    /// The wire bytes.
    type Bytes;
    /// Returned by an accessor of a view whose constructor already validated the field (never
    /// observed: the constructor refuses invalid codes).
    const PLACEHOLDER: Self;
    /// From the wire.
    fn from_wire(bytes: Self::Bytes) -> Result<Self, InvalidCode>;
    /// To the wire.
    fn to_wire(self) -> Self::Bytes;
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl WireField for $t {
            type Bytes = [u8; core::mem::size_of::<$t>()];
            const PLACEHOLDER: Self = 0;
            #[inline(always)]
            fn from_wire(bytes: Self::Bytes) -> Result<Self, InvalidCode> {
                Ok(<$t>::from_be_bytes(bytes))
            }
            #[inline(always)]
            fn to_wire(self) -> Self::Bytes {
                self.to_be_bytes()
            }
        }
    )*};
}
int_field!(u32, u64);

impl WireField for u8 {
    type Bytes = [u8; 1];
    const PLACEHOLDER: Self = b' ';
    #[inline(always)]
    fn from_wire(bytes: [u8; 1]) -> Result<Self, InvalidCode> {
        Ok(bytes[0])
    }
    #[inline(always)]
    fn to_wire(self) -> [u8; 1] {
        [self]
    }
}

impl WireField for Price4 {
    type Bytes = [u8; 4];
    const PLACEHOLDER: Self = Price4(0);
    #[inline(always)]
    fn from_wire(bytes: [u8; 4]) -> Result<Self, InvalidCode> {
        Ok(Price4(u32::from_be_bytes(bytes)))
    }
    #[inline(always)]
    fn to_wire(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

macro_rules! alpha_wire {
    ($($t:ident = $w:literal),*) => {$(
        impl WireField for $t {
            type Bytes = [u8; $w];
            const PLACEHOLDER: Self = $t::BLANK;
            #[inline(always)]
            fn from_wire(bytes: [u8; $w]) -> Result<Self, InvalidCode> {
                Ok($t(bytes))
            }
            #[inline(always)]
            fn to_wire(self) -> [u8; $w] {
                self.0
            }
        }
    )*};
}
alpha_wire!(Token = 14, Stock = 8, Firm = 4);

macro_rules! code_wire {
    ($($t:ident => $placeholder:expr),*) => {$(
        impl WireField for $t {
            type Bytes = [u8; 1];
            const PLACEHOLDER: Self = $placeholder;
            #[inline(always)]
            fn from_wire(bytes: [u8; 1]) -> Result<Self, InvalidCode> {
                $t::from_code(bytes[0])
            }
            #[inline(always)]
            fn to_wire(self) -> [u8; 1] {
                [self.code()]
            }
        }
    )*};
}
code_wire!(
    BuySell => BuySell::Buy,
    IsoEligibility => IsoEligibility::NotEligible,
    OrderState => OrderState::Dead,
    EventCode => EventCode::StartOfDay
);
