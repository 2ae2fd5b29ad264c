//! The ITCH 5.0 message types and their fixed lengths.
//!
//! Every ITCH 5.0 message has a fixed length determined by its type byte. The table here is the
//! one place that knows those lengths; [`message_len`] is a single load from a 256-entry table
//! (no branches), which is what the framer's hot path uses.

/// Every ITCH 5.0 message type, named after the specification's section titles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MessageType {
    /// `S` System Event.
    SystemEvent = b'S',
    /// `R` Stock Directory.
    StockDirectory = b'R',
    /// `H` Stock Trading Action.
    StockTradingAction = b'H',
    /// `Y` Reg SHO Short Sale Price Test Restricted Indicator.
    RegShoRestriction = b'Y',
    /// `L` Market Participant Position.
    MarketParticipantPosition = b'L',
    /// `V` MWCB Decline Level.
    MwcbDeclineLevel = b'V',
    /// `W` MWCB Status.
    MwcbStatus = b'W',
    /// `K` IPO Quoting Period Update.
    IpoQuotingPeriodUpdate = b'K',
    /// `J` LULD Auction Collar.
    LuldAuctionCollar = b'J',
    /// `h` Operational Halt.
    OperationalHalt = b'h',
    /// `A` Add Order (no MPID attribution).
    AddOrder = b'A',
    /// `F` Add Order with MPID attribution.
    AddOrderMpid = b'F',
    /// `E` Order Executed.
    OrderExecuted = b'E',
    /// `C` Order Executed With Price.
    OrderExecutedWithPrice = b'C',
    /// `X` Order Cancel.
    OrderCancel = b'X',
    /// `D` Order Delete.
    OrderDelete = b'D',
    /// `U` Order Replace.
    OrderReplace = b'U',
    /// `P` Trade (non-cross, against a non-displayed order).
    Trade = b'P',
    /// `Q` Cross Trade.
    CrossTrade = b'Q',
    /// `B` Broken Trade.
    BrokenTrade = b'B',
    /// `I` Net Order Imbalance Indicator (NOII).
    Noii = b'I',
    /// `N` Retail Price Improvement Indicator (RPII).
    Rpii = b'N',
    /// `O` Direct Listing with Capital Raise Price Discovery.
    DirectListingCapitalRaise = b'O',
}

/// Number of ITCH 5.0 message types.
pub const MESSAGE_TYPE_COUNT: usize = 23;

impl MessageType {
    /// All message types in a fixed order; [`MessageType::index`] is the position in this array.
    pub const ALL: [MessageType; MESSAGE_TYPE_COUNT] = [
        MessageType::SystemEvent,
        MessageType::StockDirectory,
        MessageType::StockTradingAction,
        MessageType::RegShoRestriction,
        MessageType::MarketParticipantPosition,
        MessageType::MwcbDeclineLevel,
        MessageType::MwcbStatus,
        MessageType::IpoQuotingPeriodUpdate,
        MessageType::LuldAuctionCollar,
        MessageType::OperationalHalt,
        MessageType::AddOrder,
        MessageType::AddOrderMpid,
        MessageType::OrderExecuted,
        MessageType::OrderExecutedWithPrice,
        MessageType::OrderCancel,
        MessageType::OrderDelete,
        MessageType::OrderReplace,
        MessageType::Trade,
        MessageType::CrossTrade,
        MessageType::BrokenTrade,
        MessageType::Noii,
        MessageType::Rpii,
        MessageType::DirectListingCapitalRaise,
    ];

    /// The type for a type byte, `None` for a byte that is not an ITCH 5.0 type.
    #[inline]
    pub const fn from_byte(byte: u8) -> Option<Self> {
        let idx = TYPE_INDEX[byte as usize];
        if idx == NO_TYPE {
            None
        } else {
            Some(Self::ALL[idx as usize])
        }
    }

    /// The type byte on the wire.
    #[inline]
    pub const fn as_byte(self) -> u8 {
        self as u8
    }

    /// Total message length in bytes, the type byte included.
    #[inline]
    pub const fn message_len(self) -> usize {
        LEN_TABLE[self as u8 as usize] as usize
    }

    /// Dense index `0..MESSAGE_TYPE_COUNT` (for per-type counter arrays).
    #[inline]
    pub const fn index(self) -> usize {
        TYPE_INDEX[self as u8 as usize] as usize
    }
}

/// Total length in bytes (type byte included) of a message of type `msg_type`, `None` for an
/// unknown type byte.
#[inline]
pub const fn message_len(msg_type: u8) -> Option<usize> {
    match LEN_TABLE[msg_type as usize] {
        0 => None,
        len => Some(len as usize),
    }
}

/// Message length by type byte; 0 means "not an ITCH 5.0 type". One load, no branches.
pub(crate) static LEN_TABLE: [u8; 256] = build_len_table();

const NO_TYPE: u8 = u8::MAX;

/// Type byte -> dense index, [`NO_TYPE`] for unknown bytes.
static TYPE_INDEX: [u8; 256] = build_index_table();

/// The length of each type, in the specification's order.
const fn spec_len(t: MessageType) -> u8 {
    match t {
        MessageType::SystemEvent => 12,
        MessageType::StockDirectory => 39,
        MessageType::StockTradingAction => 25,
        MessageType::RegShoRestriction => 20,
        MessageType::MarketParticipantPosition => 26,
        MessageType::MwcbDeclineLevel => 35,
        MessageType::MwcbStatus => 12,
        MessageType::IpoQuotingPeriodUpdate => 28,
        MessageType::LuldAuctionCollar => 35,
        MessageType::OperationalHalt => 21,
        MessageType::AddOrder => 36,
        MessageType::AddOrderMpid => 40,
        MessageType::OrderExecuted => 31,
        MessageType::OrderExecutedWithPrice => 36,
        MessageType::OrderCancel => 23,
        MessageType::OrderDelete => 19,
        MessageType::OrderReplace => 35,
        MessageType::Trade => 44,
        MessageType::CrossTrade => 40,
        MessageType::BrokenTrade => 19,
        MessageType::Noii => 50,
        MessageType::Rpii => 20,
        MessageType::DirectListingCapitalRaise => 48,
    }
}

const fn build_len_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < MESSAGE_TYPE_COUNT {
        let t = MessageType::ALL[i];
        table[t as u8 as usize] = spec_len(t);
        i += 1;
    }
    table
}

const fn build_index_table() -> [u8; 256] {
    let mut table = [NO_TYPE; 256];
    let mut i = 0;
    while i < MESSAGE_TYPE_COUNT {
        table[MessageType::ALL[i] as u8 as usize] = i as u8;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_the_specification() {
        let expected: [(u8, usize); MESSAGE_TYPE_COUNT] = [
            (b'S', 12),
            (b'R', 39),
            (b'H', 25),
            (b'Y', 20),
            (b'L', 26),
            (b'V', 35),
            (b'W', 12),
            (b'K', 28),
            (b'J', 35),
            (b'h', 21),
            (b'A', 36),
            (b'F', 40),
            (b'E', 31),
            (b'C', 36),
            (b'X', 23),
            (b'D', 19),
            (b'U', 35),
            (b'P', 44),
            (b'Q', 40),
            (b'B', 19),
            (b'I', 50),
            (b'N', 20),
            (b'O', 48),
        ];
        for (byte, len) in expected {
            assert_eq!(message_len(byte), Some(len), "type {}", byte as char);
            let t = MessageType::from_byte(byte).unwrap();
            assert_eq!(t.as_byte(), byte);
            assert_eq!(t.message_len(), len);
        }
        let known = (0..=255u8).filter(|b| message_len(*b).is_some()).count();
        assert_eq!(known, MESSAGE_TYPE_COUNT);
    }

    #[test]
    fn indices_are_dense_and_unique() {
        for (i, t) in MessageType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
        assert_eq!(MessageType::from_byte(b'Z'), None);
        assert_eq!(message_len(0), None);
    }
}
