//! `kestrel verify binance`: a capture is its own correctness oracle. Wherever a `bookTicker`'s
//! update id `u` equals the final `u` of a depth diff, the best bid and ask (price and quantity)
//! of the book reconstructed right after applying that diff must equal the ticker's exactly.
//!
//! The two streams are separate websocket streams, so the ticker may arrive before its diff
//! (spot: the 100 ms diff batches come after the tickers they cover) or after it (futures). A
//! ticker that arrives first waits (bounded) until the diff ending at its `u` is applied; one
//! that arrives after is checked at once if that diff is the last one applied; a ticker whose
//! `u` falls inside a diff (not at its end) is no check point.

use std::collections::VecDeque;

use kestrel_core::book::L2Books;
use kestrel_core::{InstrumentId, LevelView, Side, Timestamp};

use super::error::BinanceError;
use super::feed::BinanceFeed;
use crate::venue::{VenueEvent, VenueSink};

/// One check point whose top of book differed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopMismatch {
    /// The ticker's record number.
    pub record: u64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// The update id.
    pub update_id: u64,
    /// The ticker's best bid and ask.
    pub expected: [LevelView; 2],
    /// The book's best bid and ask (`None`: empty side).
    pub got: [Option<LevelView>; 2],
}

/// The outcome of a verification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Check points (ticker `u` equal to the last applied diff's final `u`).
    pub checks: u64,
    /// Check points whose top differed.
    pub mismatched: u64,
    /// Gaps in the diff chains.
    pub gaps: u64,
    /// The first mismatches (at most `keep`).
    pub mismatches: Vec<TopMismatch>,
    /// The first errors the feed reported (at most `keep`).
    pub errors: Vec<BinanceError>,
    /// All errors.
    pub error_count: u64,
}

/// A ticker waiting for its diff.
#[derive(Clone, Copy, Debug)]
struct Pending {
    update_id: u64,
    record: u64,
    bid: LevelView,
    ask: LevelView,
}

/// Tickers held per instrument while they wait for their diff.
const MAX_PENDING: usize = 65_536;

/// Checks tickers against the book as a feed sink.
#[derive(Debug)]
pub struct TickerCheck {
    /// Final `u` of the last diff applied per instrument (None while the book is not shown).
    last_diff: Vec<Option<u64>>,
    /// Tickers that arrived before their diff, in arrival order, per instrument.
    pending: Vec<VecDeque<Pending>>,
    record: u64,
    keep: usize,
    report: VerifyReport,
}

impl TickerCheck {
    /// A checker for `instruments` instruments keeping the first `keep` mismatches.
    pub fn new(instruments: usize, keep: usize) -> Self {
        Self {
            last_diff: vec![None; instruments],
            pending: vec![VecDeque::new(); instruments],
            record: 0,
            keep,
            report: VerifyReport::default(),
        }
    }

    /// Runs one message through `feed` with this checker as its sink.
    pub fn feed(&mut self, feed: &mut BinanceFeed, recv_ts: Timestamp, channel: u16, json: &[u8]) {
        self.record += 1;
        if let Err(e) = feed.on_message(recv_ts, channel, json, self) {
            self.report.error_count += 1;
            if self.report.errors.len() < self.keep {
                self.report.errors.push(e);
            }
        }
    }

    /// The report, with the feed's gap count.
    pub fn finish(mut self, feed: &BinanceFeed) -> VerifyReport {
        self.report.gaps = feed.stats().gaps;
        self.report
    }
}

impl TickerCheck {
    fn check(&mut self, books: &L2Books, instrument: InstrumentId, p: Pending) {
        self.report.checks += 1;
        let got = [
            books.levels(instrument, Side::Buy).next(),
            books.levels(instrument, Side::Sell).next(),
        ];
        if got != [Some(p.bid), Some(p.ask)] {
            self.report.mismatched += 1;
            if self.report.mismatches.len() < self.keep {
                self.report.mismatches.push(TopMismatch {
                    record: p.record,
                    instrument,
                    update_id: p.update_id,
                    expected: [p.bid, p.ask],
                    got,
                });
            }
        }
    }
}

impl VenueSink<L2Books> for TickerCheck {
    fn on_venue(&mut self, event: &VenueEvent, books: &L2Books) {
        match *event {
            VenueEvent::Book {
                instrument,
                update_id,
                shown,
                ..
            } => {
                let i = instrument.index();
                if let Some(slot) = self.last_diff.get_mut(i) {
                    *slot = shown.then_some(update_id);
                }
                if !shown {
                    return;
                }
                loop {
                    let Some(queue) = self.pending.get_mut(i) else {
                        return;
                    };
                    match queue.front().copied() {
                        // Tickers older than this update can no longer meet their diff.
                        Some(p) if p.update_id < update_id => {
                            queue.pop_front();
                        }
                        Some(p) if p.update_id == update_id => {
                            queue.pop_front();
                            self.check(books, instrument, p);
                        }
                        _ => return,
                    }
                }
            }
            VenueEvent::Quote {
                instrument,
                update_id,
                bid,
                ask,
                ..
            } => {
                let p = Pending {
                    update_id,
                    record: self.record,
                    bid,
                    ask,
                };
                match self.last_diff.get(instrument.index()).copied().flatten() {
                    Some(last) if last == update_id => self.check(books, instrument, p),
                    Some(last) if update_id < last => {}
                    _ => {
                        if let Some(queue) = self.pending.get_mut(instrument.index()) {
                            if queue.len() == MAX_PENDING {
                                queue.pop_front();
                            }
                            queue.push_back(p);
                        }
                    }
                }
            }
            VenueEvent::Level { .. } | VenueEvent::Order { .. } | VenueEvent::Trade { .. } => {}
        }
    }
}
