//! Every ITCH 5.0 message layout (NASDAQ TotalView-ITCH 5.0 specification, section 1 to 1.9).
//!
//! All messages start with the common header: type (offset 0, 1 byte), stock locate (1, 2),
//! tracking number (3, 2), timestamp (5, 6: nanoseconds since midnight). The fields below
//! start at offset 11. Integers are big-endian; `a8` is an 8-byte space-padded ASCII field;
//! prices are raw integers: Price(4) as `u32` (4 implied decimals), Price(8) as `u64`.
//! A unit test checks that each layout's fields tile the message exactly.

use super::error::{EncodeError, ItchError};
use super::macros::BeField;
use super::msg_type::MessageType;
use super::wire;
use kestrel_core::Side;

itch_messages! {
    /// `S` System Event (1.1): start/end of messages, system hours, market hours.
    SystemEvent(SystemEvent, SystemEventMsg) = b'S', 12 {
        /// `O` start of messages, `S` start of system hours, `Q` start of market hours,
        /// `M` end of market hours, `E` end of system hours, `C` end of messages.
        event_code: u8 @ 11,
    }

    /// `R` Stock Directory (1.2.1): one per issue at the start of the day; binds a stock
    /// locate code to a symbol.
    StockDirectory(StockDirectory, StockDirectoryMsg) = b'R', 39 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// Listing market category (`Q`, `G`, `S`, `N`, `A`, `P`, `Z`, `V`, ` `).
        market_category: u8 @ 19,
        /// Financial status indicator.
        financial_status_indicator: u8 @ 20,
        /// Round lot size in shares.
        round_lot_size: u32 @ 21,
        /// `Y` when only round lots are accepted.
        round_lots_only: u8 @ 25,
        /// Issue classification.
        issue_classification: u8 @ 26,
        /// Issue sub-type.
        issue_sub_type: a2 @ 27,
        /// `P` live/production, `T` test.
        authenticity: u8 @ 29,
        /// Short sale threshold indicator.
        short_sale_threshold_indicator: u8 @ 30,
        /// IPO flag.
        ipo_flag: u8 @ 31,
        /// LULD reference price tier.
        luld_reference_price_tier: u8 @ 32,
        /// ETP flag.
        etp_flag: u8 @ 33,
        /// ETP leverage factor.
        etp_leverage_factor: u32 @ 34,
        /// Inverse indicator.
        inverse_indicator: u8 @ 38,
    }

    /// `H` Stock Trading Action (1.2.2): the trading state of one issue.
    StockTradingAction(StockTradingAction, StockTradingActionMsg) = b'H', 25 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// `H` halted, `P` paused, `Q` quotation only, `T` trading.
        trading_state: u8 @ 19,
        /// Reserved.
        reserved: u8 @ 20,
        /// Reason code, space padded.
        reason: a4 @ 21,
    }

    /// `Y` Reg SHO Short Sale Price Test Restricted Indicator (1.2.3).
    RegShoRestriction(RegShoRestriction, RegShoRestrictionMsg) = b'Y', 20 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// `0` no test, `1` activated by a price drop, `2` remains in effect.
        reg_sho_action: u8 @ 19,
    }

    /// `L` Market Participant Position (1.2.4).
    MarketParticipantPosition(MarketParticipantPosition, MarketParticipantPositionMsg) = b'L', 26 {
        /// Market participant identifier.
        mpid: a4 @ 11,
        /// Symbol, space padded.
        stock: a8 @ 15,
        /// `Y` primary market maker.
        primary_market_maker: u8 @ 23,
        /// Market maker mode.
        market_maker_mode: u8 @ 24,
        /// Market participant state.
        market_participant_state: u8 @ 25,
    }

    /// `V` MWCB Decline Level (1.2.5.1): market-wide circuit breaker levels, Price(8).
    MwcbDeclineLevel(MwcbDeclineLevel, MwcbDeclineLevelMsg) = b'V', 35 {
        /// Level 1, Price(8).
        level1: u64 @ 11,
        /// Level 2, Price(8).
        level2: u64 @ 19,
        /// Level 3, Price(8).
        level3: u64 @ 27,
    }

    /// `W` MWCB Status (1.2.5.2): a circuit breaker level was breached.
    MwcbStatus(MwcbStatus, MwcbStatusMsg) = b'W', 12 {
        /// `1`, `2` or `3`.
        breached_level: u8 @ 11,
    }

    /// `K` IPO Quoting Period Update (1.2.6).
    IpoQuotingPeriodUpdate(IpoQuotingPeriodUpdate, IpoQuotingPeriodUpdateMsg) = b'K', 28 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// Release time, seconds since midnight.
        ipo_quotation_release_time: u32 @ 19,
        /// `A` anticipated, `C` cancelled/postponed.
        ipo_quotation_release_qualifier: u8 @ 23,
        /// IPO price, Price(4).
        ipo_price: u32 @ 24,
    }

    /// `J` LULD Auction Collar (1.2.7).
    LuldAuctionCollar(LuldAuctionCollar, LuldAuctionCollarMsg) = b'J', 35 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// Reference price, Price(4).
        auction_collar_reference_price: u32 @ 19,
        /// Upper collar, Price(4).
        upper_auction_collar_price: u32 @ 23,
        /// Lower collar, Price(4).
        lower_auction_collar_price: u32 @ 27,
        /// Number of extensions.
        auction_collar_extension: u32 @ 31,
    }

    /// `h` Operational Halt (1.2.8).
    OperationalHalt(OperationalHalt, OperationalHaltMsg) = b'h', 21 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// `Q` Nasdaq, `B` BX, `X` PSX.
        market_code: u8 @ 19,
        /// `H` halted, `T` resumed.
        operational_halt_action: u8 @ 20,
    }

    /// `A` Add Order, no MPID attribution (1.3.1).
    AddOrder(AddOrder, AddOrderMsg) = b'A', 36 {
        /// Order reference number, unique for the day.
        order_ref: u64 @ 11,
        /// `B` buy, `S` sell (see `side()`).
        side_code: u8 @ 19,
        /// Displayed shares.
        shares: u32 @ 20,
        /// Symbol, space padded.
        stock: a8 @ 24,
        /// Limit price, Price(4).
        price: u32 @ 32,
    }

    /// `F` Add Order with MPID attribution (1.3.2).
    AddOrderMpid(AddOrderMpid, AddOrderMpidMsg) = b'F', 40 {
        /// Order reference number, unique for the day.
        order_ref: u64 @ 11,
        /// `B` buy, `S` sell (see `side()`).
        side_code: u8 @ 19,
        /// Displayed shares.
        shares: u32 @ 20,
        /// Symbol, space padded.
        stock: a8 @ 24,
        /// Limit price, Price(4).
        price: u32 @ 32,
        /// Market participant identifier.
        attribution: a4 @ 36,
    }

    /// `E` Order Executed (1.4.1): a resting order executed at its own price.
    OrderExecuted(OrderExecuted, OrderExecutedMsg) = b'E', 31 {
        /// Order reference number.
        order_ref: u64 @ 11,
        /// Shares executed.
        executed_shares: u32 @ 19,
        /// Match number.
        match_number: u64 @ 23,
    }

    /// `C` Order Executed With Price (1.4.2): a resting order executed at another price.
    OrderExecutedWithPrice(OrderExecutedWithPrice, OrderExecutedWithPriceMsg) = b'C', 36 {
        /// Order reference number.
        order_ref: u64 @ 11,
        /// Shares executed.
        executed_shares: u32 @ 19,
        /// Match number.
        match_number: u64 @ 23,
        /// `Y` printable, `N` not printable.
        printable: u8 @ 31,
        /// Execution price, Price(4).
        execution_price: u32 @ 32,
    }

    /// `X` Order Cancel (1.4.3): part of a resting order cancelled.
    OrderCancel(OrderCancel, OrderCancelMsg) = b'X', 23 {
        /// Order reference number.
        order_ref: u64 @ 11,
        /// Shares removed.
        cancelled_shares: u32 @ 19,
    }

    /// `D` Order Delete (1.4.4): a resting order removed entirely.
    OrderDelete(OrderDelete, OrderDeleteMsg) = b'D', 19 {
        /// Order reference number.
        order_ref: u64 @ 11,
    }

    /// `U` Order Replace (1.4.5): cancel-replace with a new reference number.
    OrderReplace(OrderReplace, OrderReplaceMsg) = b'U', 35 {
        /// The replaced order's reference number.
        original_order_ref: u64 @ 11,
        /// The new order's reference number.
        new_order_ref: u64 @ 19,
        /// New displayed shares.
        shares: u32 @ 27,
        /// New limit price, Price(4).
        price: u32 @ 31,
    }

    /// `P` Trade, non-cross (1.5.1): an execution against a non-displayed order.
    Trade(Trade, TradeMsg) = b'P', 44 {
        /// Order reference number (0 for non-displayed orders since 2014).
        order_ref: u64 @ 11,
        /// Side of the non-displayed resting order: `B` buy, `S` sell (see `side()`).
        side_code: u8 @ 19,
        /// Shares executed.
        shares: u32 @ 20,
        /// Symbol, space padded.
        stock: a8 @ 24,
        /// Execution price, Price(4).
        price: u32 @ 32,
        /// Match number.
        match_number: u64 @ 36,
    }

    /// `Q` Cross Trade (1.5.2): an opening, closing, halt or IPO cross.
    CrossTrade(CrossTrade, CrossTradeMsg) = b'Q', 40 {
        /// Shares matched (8 bytes in this message).
        shares: u64 @ 11,
        /// Symbol, space padded.
        stock: a8 @ 19,
        /// Cross price, Price(4).
        cross_price: u32 @ 27,
        /// Match number.
        match_number: u64 @ 31,
        /// `O` opening, `C` closing, `H` halt/IPO, `I` intraday/post-close.
        cross_type: u8 @ 39,
    }

    /// `B` Broken Trade (1.5.3): a previously reported execution is broken.
    BrokenTrade(BrokenTrade, BrokenTradeMsg) = b'B', 19 {
        /// Match number of the broken execution.
        match_number: u64 @ 11,
    }

    /// `I` Net Order Imbalance Indicator (1.6).
    Noii(Noii, NoiiMsg) = b'I', 50 {
        /// Paired shares.
        paired_shares: u64 @ 11,
        /// Imbalance shares.
        imbalance_shares: u64 @ 19,
        /// `B` buy, `S` sell, `N` none, `O` insufficient orders.
        imbalance_direction: u8 @ 27,
        /// Symbol, space padded.
        stock: a8 @ 28,
        /// Far price, Price(4).
        far_price: u32 @ 36,
        /// Near price, Price(4).
        near_price: u32 @ 40,
        /// Current reference price, Price(4).
        current_reference_price: u32 @ 44,
        /// `O` opening, `C` closing, `H` halt/IPO, `A` extended trading close.
        cross_type: u8 @ 48,
        /// Price variation indicator.
        price_variation_indicator: u8 @ 49,
    }

    /// `N` Retail Price Improvement Indicator (1.7).
    Rpii(Rpii, RpiiMsg) = b'N', 20 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// `B` buy side, `S` sell side, `A` both, `N` none.
        interest_flag: u8 @ 19,
    }

    /// `O` Direct Listing with Capital Raise Price Discovery (1.9).
    DirectListingCapitalRaise(DirectListingCapitalRaise, DirectListingCapitalRaiseMsg) = b'O', 48 {
        /// Symbol, space padded.
        stock: a8 @ 11,
        /// `N` not eligible, `Y` eligible to open.
        open_eligibility_status: u8 @ 19,
        /// Minimum allowable price, Price(4).
        minimum_allowable_price: u32 @ 20,
        /// Maximum allowable price, Price(4).
        maximum_allowable_price: u32 @ 24,
        /// Near execution price, Price(4).
        near_execution_price: u32 @ 28,
        /// Near execution time (8-byte integer).
        near_execution_time: u64 @ 32,
        /// Lower price range collar, Price(4).
        lower_price_range_collar: u32 @ 40,
        /// Upper price range collar, Price(4).
        upper_price_range_collar: u32 @ 44,
    }
}

/// ITCH side code -> [`Side`]: `B` buy, `S` sell, anything else `None`.
#[inline]
pub const fn side_from_code(code: u8) -> Option<Side> {
    match code {
        b'B' => Some(Side::Buy),
        b'S' => Some(Side::Sell),
        _ => None,
    }
}

/// ITCH side code -> side index (0 for `B`, buy; 1 for `S`, sell), or `None` for any other
/// byte, computed with bit operations so that a hot path checks the byte with one compare that
/// is almost never taken, instead of two (`B`? else `S`?) whose first a coin-toss side
/// mispredicts half the time (a lookup table or plain compares are folded back into those two
/// branches by LLVM).
#[inline(always)]
pub const fn side_index(code: u8) -> Option<u8> {
    // `B` is 0x42 and `S` is 0x53: `d` is 0 or 0x11 for them. Any bit outside 0x11 set, or
    // exactly one of bits 0 and 4 set, is no side.
    let d = code.wrapping_sub(b'B');
    let bad = (d & !0x11) | ((d ^ (d >> 4)) & 1);
    if bad == 0 { Some(d & 1) } else { None }
}

/// [`Side`] -> ITCH side code.
#[inline]
pub const fn side_code(side: Side) -> u8 {
    match side {
        Side::Buy => b'B',
        Side::Sell => b'S',
    }
}

impl AddOrder<'_> {
    /// The order's side, `None` for a side byte other than `B`/`S`.
    #[inline]
    pub fn side(&self) -> Option<Side> {
        side_from_code(self.side_code())
    }
}

impl AddOrderMpid<'_> {
    /// The order's side, `None` for a side byte other than `B`/`S`.
    #[inline]
    pub fn side(&self) -> Option<Side> {
        side_from_code(self.side_code())
    }
}

impl Trade<'_> {
    /// The resting (non-displayed) order's side, `None` for a byte other than `B`/`S`.
    #[inline]
    pub fn side(&self) -> Option<Side> {
        side_from_code(self.side_code())
    }
}

#[cfg(test)]
mod tests {
    use super::layout::LAYOUTS;
    use super::*;
    use crate::itch::message_len;

    #[test]
    fn side_index_agrees_with_side_from_code_on_every_byte() {
        for code in 0..=u8::MAX {
            let by_index = side_index(code).map(|i| if i == 0 { Side::Buy } else { Side::Sell });
            assert_eq!(by_index, side_from_code(code), "byte {code:#04x}");
        }
    }

    #[test]
    fn every_layout_tiles_its_message_exactly() {
        assert_eq!(LAYOUTS.len(), crate::itch::MESSAGE_TYPE_COUNT);
        for &(tag, len, fields) in LAYOUTS {
            assert_eq!(message_len(tag), Some(len), "type {}", tag as char);
            let mut next = 11;
            for &(off, width) in fields {
                assert_eq!(off, next, "type {} field at {off}", tag as char);
                next = off + width;
            }
            assert_eq!(next, len, "type {} fields end at {next}", tag as char);
        }
    }

    #[test]
    fn views_reject_wrong_length_and_type() {
        let mut bytes = [0u8; 36];
        bytes[0] = b'A';
        assert!(AddOrder::new(&bytes).is_ok());
        assert_eq!(
            AddOrder::new(&bytes[..35]),
            Err(ItchError::BadLength {
                offset: 0,
                msg_type: b'A',
                expected: 36,
                actual: 35
            })
        );
        bytes[0] = b'C';
        assert_eq!(
            AddOrder::new(&bytes),
            Err(ItchError::WrongType {
                offset: 0,
                expected: b'A',
                found: b'C'
            })
        );
    }

    #[test]
    fn messages_are_a_pointer_and_a_tag() {
        assert_eq!(core::mem::size_of::<Message<'_>>(), 16);
        assert_eq!(core::mem::size_of::<AddOrder<'_>>(), 8);
        assert!(core::mem::size_of::<Result<Message<'_>, ItchError>>() <= 40);
    }

    #[test]
    fn sides_map_both_ways() {
        for side in [Side::Buy, Side::Sell] {
            assert_eq!(side_from_code(side_code(side)), Some(side));
        }
        assert_eq!(side_from_code(b'X'), None);
    }
}
