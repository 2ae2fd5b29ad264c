//! A record's typed view, with its length checked first.
//!
//! `dbn`'s `RecordRef::as_enum` picks the record type from the header's `rtype` and casts
//! without checking that the header's length covers that type for most types (0.73: MBO, MBP,
//! trades, BBO, OHLCV, status, imbalance, CMBP): a corrupt length byte makes it read past the
//! record (a `debug_assert!` in debug builds, an out-of-bounds read in release). Every typed view
//! of untrusted input in this crate goes through [`record_enum`], which refuses such a record with
//! [`DbnErrorKind::ShortRecord`] first.

use std::mem::size_of;

use dbn::{
    BboMsg, CbboMsg, Cmbp1Msg, ErrorMsg, ImbalanceMsg, InstrumentDefMsg, MboMsg, Mbp1Msg, Mbp10Msg,
    OhlcvMsg, RType, RecordRef, RecordRefEnum, StatMsg, StatusMsg, SymbolMappingMsg, SystemMsg,
    TradeMsg,
};

use super::error::DbnErrorKind;

/// The size of the current-version (v3) struct of `rtype`.
#[allow(deprecated)] // `RType::OhlcvDeprecated` is still a type a file may carry.
fn layout_size(rtype: RType) -> usize {
    match rtype {
        RType::Mbo => size_of::<MboMsg>(),
        RType::Mbp0 => size_of::<TradeMsg>(),
        RType::Mbp1 | RType::Tbbo => size_of::<Mbp1Msg>(),
        RType::Bbo1S | RType::Bbo1M => size_of::<BboMsg>(),
        RType::Mbp10 => size_of::<Mbp10Msg>(),
        RType::OhlcvDeprecated
        | RType::Ohlcv1S
        | RType::Ohlcv1M
        | RType::Ohlcv1H
        | RType::Ohlcv1D
        | RType::OhlcvEod => size_of::<OhlcvMsg>(),
        RType::Status => size_of::<StatusMsg>(),
        RType::InstrumentDef => size_of::<InstrumentDefMsg>(),
        RType::Imbalance => size_of::<ImbalanceMsg>(),
        RType::Statistics => size_of::<StatMsg>(),
        RType::Error => size_of::<ErrorMsg>(),
        RType::SymbolMapping => size_of::<SymbolMappingMsg>(),
        RType::System => size_of::<SystemMsg>(),
        RType::Cmbp1 | RType::Tcbbo => size_of::<Cmbp1Msg>(),
        RType::Cbbo1S | RType::Cbbo1M => size_of::<CbboMsg>(),
    }
}

/// The typed view of `rec`, after checking that its length covers its type's layout.
pub fn record_enum<'a>(rec: &'a RecordRef<'a>) -> Result<RecordRefEnum<'a>, DbnErrorKind> {
    let raw = rec.header().rtype;
    let Ok(rtype) = rec.header().rtype() else {
        return Err(DbnErrorKind::UnknownRecordType(raw));
    };
    let (len, need) = (rec.header().record_size(), layout_size(rtype));
    if len < need {
        return Err(DbnErrorKind::ShortRecord {
            rtype: raw,
            len,
            need,
        });
    }
    rec.as_enum()
        .map_err(|_| DbnErrorKind::UnknownRecordType(raw))
}
