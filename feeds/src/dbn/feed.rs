//! The DBN feed handler: DBN v3 records (one per kcap record) decoded by the `dbn` crate into
//! Kestrel's books and events.
//!
//! - MBO into [`L3Books`]: add, cancel (partial or full), modify (a price change or a size
//!   increase loses queue priority: delete and add; a size decrease keeps it), clear (`R`, the
//!   start of a snapshot or a reset), trade (`T`: a print, the book untouched), fill (`F`: the
//!   book is changed by the cancel that follows it), none (`N`). Records are grouped into one
//!   book update by `F_LAST`: the book is published only at a record that carries it.
//! - MBP-1 / TBBO / MBP-10 into [`L2Books`]: each record carries the top levels, which replace
//!   the instrument's book; a record whose action is `T` is also a trade print. Each level book
//!   is on the venue's tick (the instrument table's tick size, which `kestrel import dbn` takes
//!   from the definition's `min_price_increment`); an instrument without one follows the US
//!   equity rule.
//! - Trades into trade events.
//! - Definitions, statistics, status and other known records are counted; unknown record
//!   types are counted and skipped.

use std::collections::HashMap;
use std::io::Read;

use ::dbn::decode::dbn::RecordDecoder;
use ::dbn::{BidAskPair, RecordRefEnum, VersionUpgradePolicy};
use kestrel_core::book::{BookConfig, L2Books, L3Books};
use kestrel_core::{
    BookEventKind, BookTop, InstrumentId, InstrumentTable, LevelView, MarketEvent, OrderId, Price,
    Qty, Side, Timestamp, TradeKind, TradePrint,
};

use super::error::{DbnError, DbnErrorKind};
use super::import::{MAP_CHANNEL, classify, decode_instrument_map};
use super::price::dbn_price;
use super::stats::DbnStats;
use crate::kcap::{KcapHeader, PayloadKind, Record};
use crate::venue::{TopOfBook, VenueEvent, VenueSink};

/// Which book an instrument's records build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    None,
    L3,
    L2,
}

/// The L3 books (MBO) and L2 books (MBP) of a DBN stream; each instrument uses the one its
/// records call for.
#[derive(Debug)]
pub struct DbnBooks {
    /// Order-by-order books.
    pub l3: L3Books,
    /// Level books.
    pub l2: L2Books,
    kind: Vec<Kind>,
}

impl DbnBooks {
    /// Whether the instrument's records are MBO (its book is [`Self::l3`]).
    pub fn is_l3(&self, id: InstrumentId) -> bool {
        self.kind.get(id.index()) == Some(&Kind::L3)
    }

    /// Best bid of the instrument's book.
    pub fn best_bid(&self, id: InstrumentId) -> Option<LevelView> {
        if self.is_l3(id) {
            self.l3.best_bid(id)
        } else {
            self.l2.best_bid(id)
        }
    }

    /// Best ask of the instrument's book.
    pub fn best_ask(&self, id: InstrumentId) -> Option<LevelView> {
        if self.is_l3(id) {
            self.l3.best_ask(id)
        } else {
            self.l2.best_ask(id)
        }
    }

    /// Whether the instrument's book is crossed.
    pub fn is_crossed(&self, id: InstrumentId) -> bool {
        if self.is_l3(id) {
            self.l3.is_crossed(id)
        } else {
            self.l2.is_crossed(id)
        }
    }

    /// A fingerprint of the instrument's book.
    pub fn book_hash(&self, id: InstrumentId) -> u64 {
        if self.is_l3(id) {
            self.l3.book_hash(id)
        } else {
            self.l2.book_hash(id)
        }
    }
}

impl TopOfBook for DbnBooks {
    #[inline]
    fn fill_top(&self, id: InstrumentId, out: &mut BookTop) {
        if self.is_l3(id) {
            self.l3.fill_top(id, out);
        } else {
            self.l2.fill_top(id, out);
        }
    }
}

/// Hands one kcap payload at a time to the `dbn` record decoder without allocating.
#[derive(Debug, Default)]
struct Feeder {
    buf: Vec<u8>,
    pos: usize,
}

impl Feeder {
    fn load(&mut self, bytes: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(bytes);
        self.pos = 0;
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

impl Read for Feeder {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

fn record_decoder() -> RecordDecoder<Feeder> {
    let feeder = Feeder {
        buf: Vec::with_capacity(::dbn::MAX_RECORD_LEN),
        pos: 0,
    };
    // Version 3 with no upgrade is always a valid combination.
    RecordDecoder::with_version(
        feeder,
        ::dbn::DBN_VERSION,
        VersionUpgradePolicy::AsIs,
        false,
    )
    .unwrap_or_else(|_| RecordDecoder::new(Feeder::default()))
}

/// Why a capture cannot be replayed by the DBN feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbnCaptureError {
    /// The capture's payloads are not DBN.
    #[error("capture payload is {0}, not Databento DBN")]
    WrongPayload(PayloadKind),
    /// The instrument table is inconsistent.
    #[error("capture instrument table: {0}")]
    Instruments(#[from] kestrel_core::InstrumentError),
}

/// DBN records into books. See the module docs.
#[derive(Debug)]
pub struct DbnFeed {
    decoder: RecordDecoder<Feeder>,
    instruments: InstrumentTable,
    map: HashMap<u32, InstrumentId>,
    books: DbnBooks,
    /// Per instrument: a complete update left the book crossed.
    crossed: Vec<bool>,
    stats: DbnStats,
    record: u64,
    offset: u64,
}

/// Levels per side an MBP record carries at most.
const MBP_LEVELS: usize = 10;

impl DbnFeed {
    /// A feed for `instruments` whose DBN instrument ids are `dbn_ids` (in dense id order;
    /// more can be mapped later with [`set_instrument_map`](Self::set_instrument_map)). An
    /// instrument's positive tick size fixes its books' grids ([`L2Books::set_tick`],
    /// [`L3Books::set_tick`]).
    pub fn new(books: BookConfig, instruments: InstrumentTable, dbn_ids: &[u32]) -> Self {
        let n = instruments.len().max(1);
        let config = BookConfig {
            instruments: n,
            ..books
        };
        let mut l2 = L2Books::new(config);
        let mut l3 = L3Books::new(config);
        // The venue's tick (the definition's `min_price_increment`, which the importer put in
        // the table): an MBP or MBO book's grid is exact from its first level. Instruments
        // without one (tick zero: the US equity rule) keep the learned grid.
        for i in instruments.iter() {
            l2.set_tick(i.id, i.tick_size);
            l3.set_tick(i.id, i.tick_size);
        }
        let mut feed = Self {
            decoder: record_decoder(),
            map: HashMap::with_capacity(n * 2),
            books: DbnBooks {
                l3,
                l2,
                kind: vec![Kind::None; n],
            },
            crossed: vec![false; n],
            instruments,
            stats: DbnStats::default(),
            record: 0,
            offset: 0,
        };
        feed.set_instrument_map(dbn_ids);
        feed
    }

    /// A feed for a `.kcap` written by the DBN importer (the instrument map arrives as its
    /// first record).
    pub fn for_capture(header: &KcapHeader) -> Result<Self, DbnCaptureError> {
        if header.payload_kind != PayloadKind::Dbn {
            return Err(DbnCaptureError::WrongPayload(header.payload_kind));
        }
        let table = crate::handler::header_instruments(header)?;
        Ok(Self::new(BookConfig::default(), table, &[]))
    }

    /// Maps DBN instrument ids to dense ids (`dbn_ids[i]` is dense id `i`).
    pub fn set_instrument_map(&mut self, dbn_ids: &[u32]) {
        for (i, &raw) in dbn_ids.iter().enumerate() {
            let id = InstrumentId(u32::try_from(i).unwrap_or(u32::MAX));
            if id.index() < self.instruments.len() {
                self.map.insert(raw, id);
            }
        }
    }

    /// The books.
    pub fn books(&self) -> &DbnBooks {
        &self.books
    }

    /// The instruments.
    pub fn instruments(&self) -> &InstrumentTable {
        &self.instruments
    }

    /// Counters so far.
    pub fn stats(&self) -> DbnStats {
        DbnStats {
            l3: self.books.l3.stats(),
            l2: self.books.l2.stats(),
            ..self.stats
        }
    }

    /// Counts a damaged stretch of the capture.
    pub fn count_capture_error(&mut self) {
        self.stats.capture_errors += 1;
    }

    /// One kcap record: the instrument map, or one DBN v3 record. Errors are counted and
    /// returned; the feed stays usable.
    pub fn on_record<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        record: &Record<'_>,
        sink: &mut S,
    ) -> Result<(), DbnError> {
        if record.channel == MAP_CHANNEL {
            let ids = decode_instrument_map(record.payload).map_err(|kind| {
                self.stats.decode_errors += 1;
                DbnError {
                    record: self.record,
                    offset: self.offset,
                    kind,
                }
            })?;
            self.set_instrument_map(&ids);
            return Ok(());
        }
        self.on_dbn_record(record.recv_ts, record.payload, sink)
    }

    /// One DBN v3 record's bytes received at `recv_ts`.
    pub fn on_dbn_record<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        recv_ts: Timestamp,
        bytes: &[u8],
        sink: &mut S,
    ) -> Result<(), DbnError> {
        let (record, offset) = (self.record, self.offset);
        self.record += 1;
        self.offset += bytes.len() as u64;
        self.stats.records += 1;
        let at = |kind| DbnError {
            record,
            offset,
            kind,
        };
        // One capture record carries one DBN record: more bytes than its header's length would
        // put a second record into the decoder's batch, possibly at an unaligned offset, which
        // `dbn` does not tolerate. Refuse it before the decoder sees it.
        if let Some(&units) = bytes.first()
            && usize::from(units) * 4 < bytes.len()
        {
            let kind = DbnErrorKind::LengthMismatch {
                len: usize::from(units) * 4,
                bytes: bytes.len(),
            };
            self.stats.count_error(&kind);
            return Err(at(kind));
        }
        self.decoder.get_mut().load(bytes);
        let result = match self.decoder.decode_ref() {
            Ok(Some(rec)) => match super::checked::record_enum(&rec) {
                Ok(e) => {
                    let mut ctx = Ctx {
                        books: &mut self.books,
                        stats: &mut self.stats,
                        map: &self.map,
                        crossed: &mut self.crossed,
                        instruments: self.instruments.len(),
                        recv_ts,
                    };
                    ctx.apply(&e, sink)
                }
                Err(kind) => Err(kind),
            },
            Ok(None) => Err(DbnErrorKind::Truncated),
            Err(e) => Err(classify(&e)),
        };
        let leftover = self.decoder.get_mut().remaining();
        // Start the next record from a clean decoder state after anything malformed: an error,
        // bytes left over, or a length that is not a multiple of 8 (the decoder's buffer would
        // then hold the next record unaligned, which `dbn`'s `RecordRef::new` refuses with a
        // panic in debug builds and would read unaligned in release). Real records never take
        // this path, so it costs nothing in a normal replay.
        if result.is_err() || leftover != 0 || !bytes.len().is_multiple_of(8) {
            self.decoder = record_decoder();
        }
        result.map_err(|kind| {
            self.stats.count_error(&kind);
            at(kind)
        })
    }
}

/// The fields MBP-1 and MBP-10 records share.
struct Mbp {
    exch: Timestamp,
    action: std::ffi::c_char,
    side: std::ffi::c_char,
    price: i64,
    size: u32,
    sequence: u32,
    last: bool,
}

/// The [`Mbp`] fields of an MBP-1 or MBP-10 record (the two `dbn` types name them alike but
/// share no trait for them).
macro_rules! mbp_of {
    ($m:expr) => {
        Mbp {
            exch: Timestamp($m.hd.ts_event),
            action: $m.action,
            side: $m.side,
            price: $m.price,
            size: $m.size,
            sequence: $m.sequence,
            last: $m.flags.is_last(),
        }
    };
}

/// The parts of the feed a record changes (split from the decoder it is borrowed from).
struct Ctx<'a> {
    books: &'a mut DbnBooks,
    stats: &'a mut DbnStats,
    map: &'a HashMap<u32, InstrumentId>,
    crossed: &'a mut Vec<bool>,
    instruments: usize,
    recv_ts: Timestamp,
}

fn side_of(c: std::ffi::c_char) -> Option<Side> {
    match c as u8 {
        b'B' => Some(Side::Buy),
        b'A' => Some(Side::Sell),
        _ => None,
    }
}

fn qty(size: u32) -> Qty {
    Qty::from_units(i64::from(size)).unwrap_or(Qty::MAX)
}

impl Ctx<'_> {
    fn instrument(&mut self, raw: u32, kind: Kind) -> Result<InstrumentId, DbnErrorKind> {
        let id = *self
            .map
            .get(&raw)
            .ok_or(DbnErrorKind::UnknownInstrument(raw))?;
        if id.index() >= self.instruments {
            return Err(DbnErrorKind::UnknownInstrument(raw));
        }
        if let Some(k) = self.books.kind.get_mut(id.index())
            && kind != Kind::None
        {
            *k = kind;
        }
        Ok(id)
    }

    fn apply<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        rec: &RecordRefEnum<'_>,
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        match rec {
            RecordRefEnum::Mbo(m) => {
                self.stats.mbo += 1;
                let id = self.instrument(m.hd.instrument_id, Kind::L3)?;
                let exch = Timestamp(m.hd.ts_event);
                let result = self.mbo(id, exch, m, sink);
                if m.flags.is_last() {
                    self.publish(id, exch, m.sequence.into(), sink);
                } else {
                    self.stats.grouped += 1;
                }
                result
            }
            RecordRefEnum::Mbp1(m) => {
                self.stats.mbp1 += 1;
                let id = self.instrument(m.hd.instrument_id, Kind::L2)?;
                self.mbp(id, &mbp_of!(m), &m.levels, sink)
            }
            RecordRefEnum::Mbp10(m) => {
                self.stats.mbp10 += 1;
                let id = self.instrument(m.hd.instrument_id, Kind::L2)?;
                self.mbp(id, &mbp_of!(m), &m.levels, sink)
            }
            RecordRefEnum::Trade(t) => {
                self.stats.trades += 1;
                let id = self.instrument(t.hd.instrument_id, Kind::None)?;
                self.trade(
                    id,
                    Timestamp(t.hd.ts_event),
                    t.side,
                    t.price,
                    t.size,
                    t.sequence,
                    sink,
                )
            }
            RecordRefEnum::InstrumentDef(_) => {
                self.stats.definitions += 1;
                Ok(())
            }
            _ => {
                self.stats.other += 1;
                Ok(())
            }
        }
    }

    fn book(&mut self, ev: MarketEvent) -> Result<(), DbnErrorKind> {
        self.books
            .l3
            .apply(&ev)
            .map(|_| ())
            .map_err(|e| DbnErrorKind::Book(e.to_string()))
    }

    /// Applies an order event to the L3 book and, when the sink wants details, reports it with
    /// the order's side and price.
    fn book_order<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        event: MarketEvent,
        side: Side,
        price: Price,
        details: bool,
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        self.book(event)?;
        if details {
            sink.on_venue(&VenueEvent::Order { event, side, price }, &*self.books);
        }
        Ok(())
    }

    fn mbo<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        m: &::dbn::MboMsg,
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        let ev = |kind| MarketEvent {
            instrument: id,
            exch_ts: exch,
            kind,
        };
        let order_id = OrderId(m.order_id);
        let size = qty(m.size);
        if m.flags.is_snapshot() {
            self.stats.snapshot_records += 1;
        }
        let details = sink.want_details();
        match m.action as u8 {
            b'A' => {
                let side = side_of(m.side).ok_or(DbnErrorKind::BadSide(m.side as u8 as char))?;
                let price = dbn_price(m.price)?.ok_or(DbnErrorKind::TooPrecise(m.price))?;
                let e = ev(BookEventKind::Add {
                    order_id,
                    side,
                    price,
                    qty: size,
                });
                self.book_order(e, side, price, details, sink)
            }
            b'C' => {
                let existing = self.books.l3.order(order_id).ok_or_else(|| {
                    DbnErrorKind::Book(format!("cancel of unknown order {}", m.order_id))
                })?;
                let kind = if size >= existing.qty {
                    BookEventKind::Delete { order_id }
                } else {
                    BookEventKind::Cancel {
                        order_id,
                        qty: size,
                    }
                };
                self.book_order(ev(kind), existing.side, existing.price, details, sink)
            }
            b'M' => {
                let side = side_of(m.side).ok_or(DbnErrorKind::BadSide(m.side as u8 as char))?;
                let price = dbn_price(m.price)?.ok_or(DbnErrorKind::TooPrecise(m.price))?;
                let add = BookEventKind::Add {
                    order_id,
                    side,
                    price,
                    qty: size,
                };
                let Some(existing) = self.books.l3.order(order_id) else {
                    // A modify of an order the stream never added: it enters the book now.
                    self.stats.modify_unknown += 1;
                    return self.book_order(ev(add), side, price, details, sink);
                };
                if existing.price != price || size > existing.qty || existing.side != side {
                    let del = BookEventKind::Delete { order_id };
                    self.book_order(ev(del), existing.side, existing.price, details, sink)?;
                    if size.is_positive() {
                        self.book_order(ev(add), side, price, details, sink)?;
                    }
                } else if size < existing.qty {
                    let cancel = BookEventKind::Cancel {
                        order_id,
                        qty: existing.qty.checked_sub(size).unwrap_or(existing.qty),
                    };
                    self.book_order(ev(cancel), side, price, details, sink)?;
                }
                Ok(())
            }
            b'R' => {
                self.stats.clears += 1;
                self.book(ev(BookEventKind::Clear))
            }
            b'T' => self.trade(id, exch, m.side, m.price, m.size, m.sequence, sink),
            b'F' => {
                self.stats.fills += 1;
                Ok(())
            }
            b'N' => Ok(()),
            other => Err(DbnErrorKind::BadAction(other as char)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn trade<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        side: std::ffi::c_char,
        price: i64,
        size: u32,
        sequence: u32,
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        let price = dbn_price(price)?.ok_or(DbnErrorKind::TooPrecise(price))?;
        self.stats.trade_prints += 1;
        // For trades, DBN's side is the aggressor's.
        let aggressor = match side_of(side) {
            Some(Side::Buy) => 1,
            Some(Side::Sell) => -1,
            None => 0,
        };
        sink.on_venue(
            &VenueEvent::Trade {
                instrument: id,
                exch_ts: exch,
                recv_ts: self.recv_ts,
                print: TradePrint {
                    price,
                    qty: qty(size),
                    aggressor,
                    // DBN carries no match number; the record's venue sequence names the print
                    // (the same id as `match_id`).
                    match_number: u64::from(sequence),
                    kind: TradeKind::Execution,
                },
                match_id: u64::from(sequence),
            },
            &*self.books,
        );
        Ok(())
    }

    /// An MBP-1 or MBP-10 record: its trade (if it is one), its levels, and the update when it
    /// is the last record of its event.
    fn mbp<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        id: InstrumentId,
        m: &Mbp,
        levels: &[BidAskPair],
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        self.mbp_trade(
            id, m.exch, m.action, m.side, m.price, m.size, m.sequence, sink,
        )?;
        self.mbp_levels(id, m.exch, levels, sink)?;
        if m.last {
            self.publish(id, m.exch, m.sequence.into(), sink);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn mbp_trade<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        action: std::ffi::c_char,
        side: std::ffi::c_char,
        price: i64,
        size: u32,
        sequence: u32,
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        if action as u8 == b'T' {
            self.trade(id, exch, side, price, size, sequence, sink)
        } else {
            Ok(())
        }
    }

    /// Replaces the instrument's level book with the record's levels.
    fn mbp_levels<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        levels: &[BidAskPair],
        sink: &mut S,
    ) -> Result<(), DbnErrorKind> {
        let mut new = [[LevelView::default(); MBP_LEVELS]; 2];
        let mut counts = [0usize; 2];
        for pair in levels.iter().take(MBP_LEVELS) {
            for (side, px, sz) in [
                (Side::Buy, pair.bid_px, pair.bid_sz),
                (Side::Sell, pair.ask_px, pair.ask_sz),
            ] {
                if let Some(price) = dbn_price(px)?
                    && sz > 0
                {
                    let s = side.index();
                    new[s][counts[s]] = LevelView {
                        price,
                        qty: qty(sz),
                    };
                    counts[s] += 1;
                }
            }
        }
        let details = sink.want_details();
        let mut old = [[LevelView::default(); MBP_LEVELS]; 2];
        let mut old_counts = [0usize; 2];
        if details {
            for side in [Side::Buy, Side::Sell] {
                for l in self.books.l2.levels(id, side).take(MBP_LEVELS) {
                    old[side.index()][old_counts[side.index()]] = l;
                    old_counts[side.index()] += 1;
                }
            }
        }
        let ev = |kind| MarketEvent {
            instrument: id,
            exch_ts: exch,
            kind,
        };
        let _ = self.books.l2.apply(&ev(BookEventKind::Clear));
        for side in [Side::Buy, Side::Sell] {
            for l in &new[side.index()][..counts[side.index()]] {
                let _ = self.books.l2.apply(&ev(BookEventKind::Level {
                    side,
                    price: l.price,
                    qty: l.qty,
                }));
            }
        }
        if details {
            for side in [Side::Buy, Side::Sell] {
                let s = side.index();
                let (old, new) = (&old[s][..old_counts[s]], &new[s][..counts[s]]);
                for o in old {
                    let now = new
                        .iter()
                        .find(|n| n.price == o.price)
                        .map_or(Qty::ZERO, |n| n.qty);
                    if now != o.qty {
                        sink.on_venue(
                            &VenueEvent::Level {
                                instrument: id,
                                exch_ts: exch,
                                side,
                                price: o.price,
                                old_qty: o.qty,
                                new_qty: now,
                            },
                            &*self.books,
                        );
                    }
                }
                for n in new {
                    if !old.iter().any(|o| o.price == n.price) {
                        sink.on_venue(
                            &VenueEvent::Level {
                                instrument: id,
                                exch_ts: exch,
                                side,
                                price: n.price,
                                old_qty: Qty::ZERO,
                                new_qty: n.qty,
                            },
                            &*self.books,
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn publish<S: VenueSink<DbnBooks> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        update_id: u64,
        sink: &mut S,
    ) {
        let crossed = self.books.is_crossed(id);
        if let Some(c) = self.crossed.get_mut(id.index()) {
            if crossed && !*c {
                self.stats.crossed += 1;
            }
            *c = crossed;
        }
        if !crossed {
            self.stats.book_updates += 1;
        }
        sink.on_venue(
            &VenueEvent::Book {
                instrument: id,
                exch_ts: exch,
                recv_ts: self.recv_ts,
                update_id,
                shown: !crossed,
            },
            &*self.books,
        );
    }
}

impl crate::venue_source::RecordFeed for DbnFeed {
    type Books = DbnBooks;

    #[inline]
    fn on_record<S: VenueSink<DbnBooks>>(&mut self, record: &Record<'_>, sink: &mut S) {
        // Errors are counted in the stats; the pipeline keeps going.
        let _ = DbnFeed::on_record(self, record, sink);
    }

    fn count_capture_error(&mut self) {
        DbnFeed::count_capture_error(self);
    }

    fn instrument_count(&self) -> usize {
        self.instruments.len()
    }
}
