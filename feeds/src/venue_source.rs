//! A pipeline [`Source`] over a capture of a level-book venue (Binance JSON, Databento DBN):
//! each record goes through the venue's handler, and each complete book update that may be
//! shown (and each trade on a shown book) becomes a [`BookUpdate`] with the top levels after it.
//! Paced like the ITCH capture source: latency counts from the intended send time.

use kestrel_core::clock::{Clock, Pace, Pacer, Stamps, TscClock};
use kestrel_core::pipeline::{Emit, Source, SourceStatus};
use kestrel_core::{BookTop, BookUpdate, Timestamp};

use crate::kcap::Record;
use crate::venue::{TopOfBook, VenueEvent, VenueSink};

/// A venue handler that takes capture records.
pub trait RecordFeed {
    /// Its books.
    type Books: TopOfBook + ?Sized;

    /// One capture record (errors are counted by the handler; the stream goes on).
    fn on_record<S: VenueSink<Self::Books>>(&mut self, record: &Record<'_>, sink: &mut S);

    /// Counts a damaged stretch of the capture.
    fn count_capture_error(&mut self);

    /// Instruments the handler knows (sizes the per-instrument state).
    fn instrument_count(&self) -> usize;
}

/// Replays records through a [`RecordFeed`] as a pipeline source.
#[derive(Debug)]
pub struct VenueSource<I, F> {
    feed: F,
    records: I,
    pacer: Pacer,
    clock: TscClock,
    seq: u64,
    /// Per instrument: whether its book may be shown (`None` until it has one: trades of an
    /// instrument without a book, such as a DBN trades file, are published).
    shown: Vec<Option<bool>>,
    /// Instruments to publish (`None`: all), by feed instrument id.
    publish: Option<Vec<bool>>,
    /// Updates not published because their instrument is outside `publish`.
    unpublished: u64,
}

struct UpdateSink<'a, E> {
    out: &'a mut E,
    seq: &'a mut u64,
    shown: &'a mut [Option<bool>],
    publish: Option<&'a [bool]>,
    unpublished: &'a mut u64,
    clock: &'a TscClock,
    recv: Timestamp,
}

impl<E: Emit<BookUpdate>, B: TopOfBook + ?Sized> VenueSink<B> for UpdateSink<'_, E> {
    #[inline]
    fn on_venue(&mut self, event: &VenueEvent, books: &B) {
        let (instrument, exch_ts, recv_ts, trade) = match *event {
            VenueEvent::Book {
                instrument,
                exch_ts,
                recv_ts,
                shown,
                ..
            } => {
                if let Some(s) = self.shown.get_mut(instrument.index()) {
                    *s = Some(shown);
                }
                if !shown {
                    return;
                }
                (instrument, exch_ts, recv_ts, Default::default())
            }
            VenueEvent::Trade {
                instrument,
                exch_ts,
                recv_ts,
                print,
                ..
            } => {
                if self.shown.get(instrument.index()).copied().flatten() == Some(false) {
                    return;
                }
                (instrument, exch_ts, recv_ts, print)
            }
            VenueEvent::Level { .. } | VenueEvent::Order { .. } | VenueEvent::Quote { .. } => {
                return;
            }
        };
        if let Some(mask) = self.publish
            && !mask.get(instrument.index()).copied().unwrap_or(false)
        {
            *self.unpublished += 1;
            return;
        }
        let booked = self.clock.now();
        let mut top = BookTop::default();
        books.fill_top(instrument, &mut top);
        *self.seq += 1;
        self.out.emit(BookUpdate {
            instrument,
            seq: *self.seq,
            exch_ts,
            recv_ts,
            top,
            trade,
            trading: true,
            more_in_packet: false,
            stamps: Stamps {
                recv: self.recv,
                decoded: Timestamp::ZERO,
                booked,
                published: Timestamp::ZERO,
            },
        });
    }
}

impl<'a, I, Err, F> VenueSource<I, F>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
    F: RecordFeed,
{
    /// A source over `records` feeding `feed`, paced by `pace` on `clock`.
    pub fn new(feed: F, records: I, pace: Pace, clock: TscClock) -> Self {
        let n = feed.instrument_count();
        Self {
            feed,
            records,
            pacer: Pacer::new(pace),
            clock,
            seq: 0,
            shown: vec![None; n],
            publish: None,
            unpublished: 0,
        }
    }

    /// Publishes only the updates of instruments whose entry in `mask` (indexed by feed
    /// instrument id) is true.
    pub fn with_publish_mask(mut self, mask: Vec<bool>) -> Self {
        self.publish = Some(mask);
        self
    }
}

impl<I, F> VenueSource<I, F> {
    /// The handler, with its final books and counters.
    pub fn into_feed(self) -> F {
        self.feed
    }

    /// The handler.
    pub fn feed(&self) -> &F {
        &self.feed
    }

    /// Book updates emitted so far.
    pub fn updates(&self) -> u64 {
        self.seq
    }

    /// Updates not published because their instrument is outside the publish mask.
    pub fn unpublished(&self) -> u64 {
        self.unpublished
    }
}

impl<'a, I, Err, F> Source for VenueSource<I, F>
where
    I: Iterator<Item = Result<Record<'a>, Err>>,
    F: RecordFeed,
{
    type Out = BookUpdate;

    #[inline]
    fn poll<E: Emit<BookUpdate>>(&mut self, out: &mut E) -> SourceStatus {
        match self.records.next() {
            Some(Ok(record)) => {
                let recv = self.pacer.intended(record.recv_ts, &self.clock);
                if self.pacer.pace() != Pace::Max {
                    self.pacer.wait_until(recv, &self.clock);
                }
                let mut sink = UpdateSink {
                    out,
                    seq: &mut self.seq,
                    shown: &mut self.shown,
                    publish: self.publish.as_deref(),
                    unpublished: &mut self.unpublished,
                    clock: &self.clock,
                    recv,
                };
                self.feed.on_record(&record, &mut sink);
                SourceStatus::Busy
            }
            Some(Err(_)) => {
                self.feed.count_capture_error();
                SourceStatus::Busy
            }
            None => SourceStatus::Done,
        }
    }
}
