//! The Binance feed handler: JSON message -> decoder -> precision check -> per-instrument
//! snapshot/diff synchronisation -> [`L2Books`] -> the caller's [`VenueSink`].
//!
//! One [`VenueEvent::Book`] per complete book update (a whole diff, a snapshot), one
//! [`VenueEvent::Trade`] per trade, one [`VenueEvent::Quote`] per `bookTicker`. Every anomaly is
//! an error returned to the caller with its record number, and a counter; the stream goes on.
//! No allocation per message after start (buffers and books are sized at start).

use kestrel_core::book::{BookConfig, L2Books};
use kestrel_core::{
    BookEventKind, InstrumentId, InstrumentTable, LevelView, MarketEvent, Side, Timestamp,
    TradeKind, TradePrint,
};

use super::decode::{BinanceDecoder, BinanceMessage, BookTicker, DepthDiff, Trade};
use super::error::{BinanceError, BinanceErrorKind};
use super::instruments::{Grids, Market};
use super::stats::BinanceStats;
use super::sync::{DepthSync, DiffBuffer, DiffIds, SyncState, Verdict};
use crate::venue::{VenueEvent, VenueSink};

/// kcap channel of websocket messages; a REST depth snapshot is stored on channel
/// `SNAPSHOT_CHANNEL_BASE + dense instrument id` (a snapshot names no symbol).
pub const SNAPSHOT_CHANNEL_BASE: u16 = 1;

/// Feed settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinanceConfig {
    /// Which market (continuity rule).
    pub market: Market,
    /// Book sizes.
    pub books: BookConfig,
    /// Levels per side one message may carry.
    pub max_message_levels: usize,
    /// Diffs buffered per instrument while waiting for a snapshot.
    pub buffer_diffs: usize,
    /// Levels buffered per instrument while waiting for a snapshot.
    pub buffer_levels: usize,
}

impl BinanceConfig {
    /// Defaults for `market`: 5,000 levels per message, 4,096 diffs and 262,144 levels
    /// buffered per instrument, books of 8,192 levels per side held without growing (a REST
    /// snapshot carries up to 5,000 per side and the diffs add levels around it: with 1,024 the
    /// bundled spot capture grew its book on the feed thread after warm-up).
    pub fn new(market: Market) -> Self {
        Self {
            market,
            books: BookConfig {
                levels_per_side: 8_192,
                ..BookConfig::default()
            },
            max_message_levels: super::decode::DEFAULT_MAX_LEVELS,
            buffer_diffs: 4_096,
            buffer_levels: 1 << 18,
        }
    }
}

/// One instrument's stream.
#[derive(Debug, Clone)]
struct Stream {
    sync: DepthSync,
    buffer: DiffBuffer,
    /// Final `u` of the last diff applied (the snapshot's id right after a snapshot).
    last_applied: Option<u64>,
    crossed: bool,
}

/// Binance market data into level books. See the module docs.
#[derive(Debug)]
pub struct BinanceFeed {
    config: BinanceConfig,
    decoder: BinanceDecoder,
    instruments: InstrumentTable,
    grids: Grids,
    books: L2Books,
    streams: Vec<Stream>,
    stats: BinanceStats,
    record: u64,
}

#[inline]
fn ms(ms: u64) -> Timestamp {
    Timestamp(ms.saturating_mul(1_000_000))
}

impl BinanceFeed {
    /// A feed for the instruments of `instruments` (dense ids in table order).
    pub fn new(config: BinanceConfig, instruments: InstrumentTable) -> Self {
        let n = instruments.len();
        let mut books = L2Books::new(BookConfig {
            instruments: n.max(1),
            ..config.books
        });
        // The symbol filter's tick: the books' grid is exact from the first level.
        for i in instruments.iter() {
            books.set_tick(i.id, i.tick_size);
        }
        let stream = Stream {
            sync: DepthSync::new(config.market),
            buffer: DiffBuffer::new(config.buffer_diffs, config.buffer_levels),
            last_applied: None,
            crossed: false,
        };
        Self {
            decoder: BinanceDecoder::new(config.max_message_levels),
            grids: Grids::new(&instruments),
            books,
            streams: vec![stream; n],
            stats: BinanceStats::default(),
            record: 0,
            config,
            instruments,
        }
    }

    /// The market.
    pub fn market(&self) -> Market {
        self.config.market
    }

    /// The books.
    pub fn books(&self) -> &L2Books {
        &self.books
    }

    /// The instruments.
    pub fn instruments(&self) -> &InstrumentTable {
        &self.instruments
    }

    /// Counters so far (book counters included).
    pub fn stats(&self) -> BinanceStats {
        BinanceStats {
            book: self.books.stats(),
            buffer_overflows: self.streams.iter().map(|s| s.buffer.overflows()).sum(),
            ..self.stats
        }
    }

    /// Where an instrument's stream stands.
    pub fn sync_state(&self, id: InstrumentId) -> Option<SyncState> {
        self.streams.get(id.index()).map(|s| s.sync.state())
    }

    /// Whether the instrument's book may be shown: synchronised and not crossed.
    pub fn is_shown(&self, id: InstrumentId) -> bool {
        self.streams
            .get(id.index())
            .is_some_and(|s| s.sync.is_synced() && !s.crossed)
    }

    /// Final update id of the last diff applied to the instrument's book, while synchronised.
    pub fn last_applied_update(&self, id: InstrumentId) -> Option<u64> {
        self.streams
            .get(id.index())
            .filter(|s| s.sync.is_synced())
            .and_then(|s| s.last_applied)
    }

    /// Counts a damaged stretch of the capture reported by its reader.
    pub fn count_capture_error(&mut self) {
        self.stats.capture_errors += 1;
    }

    /// One message received at `recv_ts` on kcap `channel` (0: websocket; a snapshot's channel
    /// names its instrument, see [`SNAPSHOT_CHANNEL_BASE`]). Errors are counted and returned;
    /// the feed stays usable.
    pub fn on_message<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        recv_ts: Timestamp,
        channel: u16,
        json: &[u8],
        sink: &mut S,
    ) -> Result<(), BinanceError> {
        self.record += 1;
        self.stats.records += 1;
        let record = self.record;
        let result = self.dispatch(recv_ts, channel, json, sink);
        result.map_err(|kind| {
            self.stats.count_error(&kind);
            BinanceError { record, kind }
        })
    }

    fn dispatch<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        recv_ts: Timestamp,
        channel: u16,
        json: &[u8],
        sink: &mut S,
    ) -> Result<(), BinanceErrorKind> {
        let msg = self.decoder.decode(json)?;
        match msg {
            BinanceMessage::Depth(diff) => {
                self.stats.depth_diffs += 1;
                let id = self.lookup(diff.symbol)?;
                self.on_diff(id, diff, recv_ts, sink)
            }
            BinanceMessage::BookTicker(t) => {
                self.stats.book_tickers += 1;
                let id = self.lookup(t.symbol)?;
                self.on_ticker(id, &t, recv_ts, sink)
            }
            BinanceMessage::Trade(t) => {
                self.stats.trades += 1;
                let id = self.lookup(t.symbol)?;
                self.on_trade(id, &t, recv_ts, sink)
            }
            BinanceMessage::Snapshot(s) => {
                self.stats.snapshots += 1;
                let raw = u32::from(channel.saturating_sub(SNAPSHOT_CHANNEL_BASE));
                let id = InstrumentId(raw);
                if channel < SNAPSHOT_CHANNEL_BASE || id.index() >= self.streams.len() {
                    return Err(BinanceErrorKind::SnapshotInstrument(raw));
                }
                let exch = s.transact_time_ms.or(s.event_time_ms).map_or(recv_ts, ms);
                self.on_snapshot(id, s.last_update_id, exch, recv_ts, sink)
            }
        }
    }

    #[inline]
    fn lookup(&self, symbol: &str) -> Result<InstrumentId, BinanceErrorKind> {
        // One or a few instruments per feed: a linear scan beats hashing the symbol.
        self.instruments
            .iter()
            .find(|i| i.symbol == symbol)
            .map(|i| i.id)
            .ok_or_else(|| BinanceErrorKind::UnknownSymbol(symbol.to_owned()))
    }

    fn on_diff<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        id: InstrumentId,
        diff: DepthDiff<'_>,
        recv_ts: Timestamp,
        sink: &mut S,
    ) -> Result<(), BinanceErrorKind> {
        self.grids.check_levels(id, "b", self.decoder.bids())?;
        self.grids.check_levels(id, "a", self.decoder.asks())?;
        let ids = DiffIds {
            first: diff.first_update_id,
            last: diff.final_update_id,
            prev: diff.prev_final_update_id,
        };
        let exch = ms(diff.transact_time_ms.unwrap_or(diff.event_time_ms));
        let Some(stream) = self.streams.get_mut(id.index()) else {
            return Err(BinanceErrorKind::UnknownSymbol(diff.symbol.to_owned()));
        };
        let after = synced_id(stream.sync.state());
        match stream.sync.on_diff(ids) {
            Verdict::Apply => {
                stream.last_applied = Some(ids.last);
                let (bids, asks) = (self.decoder.bids(), self.decoder.asks());
                let levels = bids
                    .iter()
                    .map(|l| (Side::Buy, *l))
                    .chain(asks.iter().map(|l| (Side::Sell, *l)));
                apply_levels(&mut self.books, id, exch, levels, sink);
                self.stats.diffs_applied += 1;
                self.publish_book(id, exch, recv_ts, sink);
                Ok(())
            }
            Verdict::Buffer => {
                self.stats.diffs_buffered += 1;
                stream.buffer.push(
                    ids,
                    exch.nanos(),
                    recv_ts.nanos(),
                    self.record,
                    self.decoder.bids(),
                    self.decoder.asks(),
                );
                Ok(())
            }
            Verdict::Stale => {
                self.stats.stale_diffs += 1;
                Ok(())
            }
            Verdict::Gap | Verdict::SnapshotTooOld => {
                self.stats.gaps += 1;
                stream.last_applied = None;
                stream.buffer.push(
                    ids,
                    exch.nanos(),
                    recv_ts.nanos(),
                    self.record,
                    self.decoder.bids(),
                    self.decoder.asks(),
                );
                self.invalidate(id, exch, recv_ts, sink);
                Err(BinanceErrorKind::Gap {
                    after,
                    first: ids.first,
                    last: ids.last,
                    prev: ids.prev,
                })
            }
        }
    }

    /// Empties the book after a gap and tells the sink it may not be shown.
    fn invalidate<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        recv_ts: Timestamp,
        sink: &mut S,
    ) {
        let _ = self.books.apply(&MarketEvent {
            instrument: id,
            exch_ts: exch,
            kind: BookEventKind::Clear,
        });
        if let Some(s) = self.streams.get_mut(id.index()) {
            s.crossed = false;
        }
        sink.on_venue(
            &VenueEvent::Book {
                instrument: id,
                exch_ts: exch,
                recv_ts,
                update_id: 0,
                shown: false,
            },
            &self.books,
        );
    }

    fn publish_book<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        id: InstrumentId,
        exch: Timestamp,
        recv_ts: Timestamp,
        sink: &mut S,
    ) {
        let crossed = self.books.is_crossed(id);
        let Some(stream) = self.streams.get_mut(id.index()) else {
            return;
        };
        if crossed && !stream.crossed {
            self.stats.crossed_withheld += 1;
        }
        stream.crossed = crossed;
        let shown = stream.sync.is_synced() && !crossed;
        if shown {
            self.stats.book_updates += 1;
        }
        let update_id = stream.last_applied.unwrap_or(0);
        sink.on_venue(
            &VenueEvent::Book {
                instrument: id,
                exch_ts: exch,
                recv_ts,
                update_id,
                shown,
            },
            &self.books,
        );
    }

    fn on_snapshot<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        id: InstrumentId,
        last_update_id: u64,
        exch: Timestamp,
        recv_ts: Timestamp,
        sink: &mut S,
    ) -> Result<(), BinanceErrorKind> {
        self.grids.check_levels(id, "bids", self.decoder.bids())?;
        self.grids.check_levels(id, "asks", self.decoder.asks())?;
        let Some(stream) = self.streams.get_mut(id.index()) else {
            return Err(BinanceErrorKind::SnapshotInstrument(id.0));
        };
        if stream.sync.snapshot_is_stale(last_update_id) {
            self.stats.stale_snapshots += 1;
            return Ok(());
        }
        stream.sync.on_snapshot(last_update_id);
        stream.last_applied = Some(last_update_id);
        let _ = self.books.apply(&MarketEvent {
            instrument: id,
            exch_ts: exch,
            kind: BookEventKind::Clear,
        });
        let (bids, asks) = (self.decoder.bids(), self.decoder.asks());
        let levels = bids
            .iter()
            .map(|l| (Side::Buy, *l))
            .chain(asks.iter().map(|l| (Side::Sell, *l)));
        apply_levels(&mut self.books, id, exch, levels, sink);
        self.stats.snapshots_applied += 1;
        // Replay the diffs that arrived before the snapshot. The snapshot's book is published
        // once the first of them bridges it (or, with none to apply, at the end): a snapshot
        // found too old is never shown.
        let mut snapshot_shown = false;
        let mut consumed = 0;
        let mut outcome = Ok(());
        while let Some(stream) = self.streams.get_mut(id.index()) {
            let Some((diff, _)) = stream.buffer.get(consumed) else {
                break;
            };
            let after = synced_id(stream.sync.state());
            match stream.sync.on_diff(diff.ids) {
                Verdict::Apply => {
                    consumed += 1;
                    stream.last_applied = Some(diff.ids.last);
                    if !snapshot_shown {
                        snapshot_shown = true;
                        stream.last_applied = Some(last_update_id);
                        self.publish_book(id, exch, recv_ts, sink);
                    }
                    let Some(stream) = self.streams.get_mut(id.index()) else {
                        break;
                    };
                    stream.last_applied = Some(diff.ids.last);
                    let Some((_, levels)) = stream.buffer.get(consumed - 1) else {
                        break;
                    };
                    let exch = Timestamp(diff.exch_ns);
                    apply_levels(&mut self.books, id, exch, levels.iter().copied(), sink);
                    self.stats.diffs_applied += 1;
                    self.publish_book(id, exch, Timestamp(diff.recv_ns), sink);
                }
                Verdict::Stale | Verdict::Buffer => {
                    consumed += 1;
                    self.stats.stale_diffs += 1;
                }
                verdict @ (Verdict::Gap | Verdict::SnapshotTooOld) => {
                    // Keep this diff and the rest for the next snapshot.
                    stream.last_applied = None;
                    let (first, last) = (diff.ids.first, diff.ids.last);
                    outcome = Err(if verdict == Verdict::SnapshotTooOld {
                        self.stats.snapshots_too_old += 1;
                        BinanceErrorKind::SnapshotTooOld {
                            last_update_id,
                            first_buffered: first,
                        }
                    } else {
                        self.stats.gaps += 1;
                        BinanceErrorKind::Gap {
                            after,
                            first,
                            last,
                            prev: diff.ids.prev,
                        }
                    });
                    self.invalidate(id, exch, recv_ts, sink);
                    break;
                }
            }
        }
        if let Some(stream) = self.streams.get_mut(id.index()) {
            stream.buffer.consume(consumed);
        }
        if outcome.is_ok() && !snapshot_shown {
            self.publish_book(id, exch, recv_ts, sink);
        }
        outcome
    }

    fn on_ticker<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        id: InstrumentId,
        t: &BookTicker<'_>,
        recv_ts: Timestamp,
        sink: &mut S,
    ) -> Result<(), BinanceErrorKind> {
        self.grids.check_price(id, "b", t.bid_price)?;
        self.grids.check_qty(id, "B", t.bid_qty)?;
        self.grids.check_price(id, "a", t.ask_price)?;
        self.grids.check_qty(id, "A", t.ask_qty)?;
        sink.on_venue(
            &VenueEvent::Quote {
                instrument: id,
                exch_ts: t.event_time_ms.map_or(recv_ts, ms),
                recv_ts,
                update_id: t.update_id,
                bid: LevelView {
                    price: t.bid_price,
                    qty: t.bid_qty,
                },
                ask: LevelView {
                    price: t.ask_price,
                    qty: t.ask_qty,
                },
            },
            &self.books,
        );
        Ok(())
    }

    fn on_trade<S: VenueSink<L2Books> + ?Sized>(
        &mut self,
        id: InstrumentId,
        t: &Trade<'_>,
        recv_ts: Timestamp,
        sink: &mut S,
    ) -> Result<(), BinanceErrorKind> {
        self.grids.check_price(id, "p", t.price)?;
        self.grids.check_qty(id, "q", t.qty)?;
        sink.on_venue(
            &VenueEvent::Trade {
                instrument: id,
                exch_ts: ms(t.trade_time_ms),
                recv_ts,
                print: TradePrint {
                    price: t.price,
                    qty: t.qty,
                    // The buyer was the maker: the seller crossed the spread.
                    aggressor: if t.buyer_is_maker { -1 } else { 1 },
                    // Binance's trade id (aggTrade: the aggregate trade id).
                    match_number: t.trade_id,
                    kind: TradeKind::Execution,
                },
                match_id: t.trade_id,
            },
            &self.books,
        );
        Ok(())
    }
}

/// The update id a synchronised stream stands at.
fn synced_id(state: SyncState) -> Option<u64> {
    match state {
        SyncState::Synced { last, .. } => Some(last),
        SyncState::AwaitingSnapshot => None,
    }
}

/// Applies levels to the book, reporting each change to a sink that wants details.
fn apply_levels<S: VenueSink<L2Books> + ?Sized>(
    books: &mut L2Books,
    id: InstrumentId,
    exch: Timestamp,
    levels: impl Iterator<Item = (Side, LevelView)>,
    sink: &mut S,
) {
    let details = sink.want_details();
    for (side, level) in levels {
        let old_qty = if details {
            books.level_qty(id, side, level.price).unwrap_or_default()
        } else {
            Default::default()
        };
        // Quantities were checked non-negative by the decimal parser's grid check; a negative
        // one is counted by the book.
        let _ = books.apply_level(id, side, level.price, level.qty);
        if details && old_qty != level.qty {
            sink.on_venue(
                &VenueEvent::Level {
                    instrument: id,
                    exch_ts: exch,
                    side,
                    price: level.price,
                    old_qty,
                    new_qty: level.qty,
                },
                books,
            );
        }
    }
}

impl crate::venue_source::RecordFeed for BinanceFeed {
    type Books = L2Books;

    #[inline]
    fn on_record<S: VenueSink<L2Books>>(&mut self, record: &crate::kcap::Record<'_>, sink: &mut S) {
        // Errors are counted in the stats; the pipeline keeps going.
        let _ = self.on_message(record.recv_ts, record.channel, record.payload, sink);
    }

    fn count_capture_error(&mut self) {
        BinanceFeed::count_capture_error(self);
    }

    fn instrument_count(&self) -> usize {
        self.instruments.len()
    }
}

/// Why a capture cannot be replayed by the Binance feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinanceCaptureError {
    /// The capture's payloads are not Binance JSON.
    #[error("capture payload is {0}, not Binance JSON")]
    WrongPayload(crate::kcap::PayloadKind),
    /// The venue name does not say which Binance market.
    #[error(
        "capture venue {0:?} is not a Binance market (BINANCE-SPOT, BINANCE-USDM, BINANCE-COINM)"
    )]
    Venue(String),
    /// The instrument table is inconsistent.
    #[error("capture instrument table: {0}")]
    Instruments(#[from] kestrel_core::InstrumentError),
}

impl BinanceFeed {
    /// A feed for a `.kcap` written by the Binance importer: market from the venue name,
    /// instruments (tick and lot sizes) from the header.
    pub fn for_capture(header: &crate::kcap::KcapHeader) -> Result<Self, BinanceCaptureError> {
        if header.payload_kind != crate::kcap::PayloadKind::BinanceJson {
            return Err(BinanceCaptureError::WrongPayload(header.payload_kind));
        }
        let market = Market::from_venue(&header.venue)
            .ok_or_else(|| BinanceCaptureError::Venue(header.venue.clone()))?;
        let table = crate::handler::header_instruments(header)?;
        Ok(Self::new(BinanceConfig::new(market), table))
    }
}
