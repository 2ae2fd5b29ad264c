//! The ITCH feed handler's events as venue events, so ITCH captures export like the others:
//! each applied order event (with the side and price of the order it touched), each trade
//! print, then a complete book update (ITCH events are complete one by one).

use kestrel_core::book::L3Books;
use kestrel_core::{BookEventKind, Side};

use crate::handler::{EventSink, FeedEvent};
use crate::venue::{VenueEvent, VenueSink};

/// Wraps a [`VenueSink`] as the ITCH handler's [`EventSink`].
#[derive(Debug)]
pub struct ItchEvents<'a, S> {
    /// The sink the events go to.
    pub sink: &'a mut S,
}

impl<S: VenueSink<L3Books>> EventSink for ItchEvents<'_, S> {
    fn on_event(&mut self, fe: &FeedEvent, books: &L3Books) {
        let Ok(applied) = fe.outcome else {
            return;
        };
        let ev = fe.event;
        let details = self.sink.want_details();
        if details {
            let side = applied.side.unwrap_or(Side::Buy);
            let price = applied.price.unwrap_or_default();
            let wanted = match ev.kind {
                BookEventKind::Add { .. }
                | BookEventKind::Cancel { .. }
                | BookEventKind::Delete { .. }
                | BookEventKind::Execute { .. }
                | BookEventKind::ExecuteAtPrice { .. }
                | BookEventKind::ExecuteNonPrintable { .. }
                | BookEventKind::Replace { .. }
                | BookEventKind::Status(_)
                | BookEventKind::OperationalHalt { .. } => true,
                BookEventKind::Trade { .. } => applied.trade.is_some(),
                BookEventKind::Level { .. }
                | BookEventKind::Clear
                | BookEventKind::Break { .. }
                | BookEventKind::MarketWideHalt { .. } => false,
            };
            if wanted {
                self.sink.on_venue(
                    &VenueEvent::Order {
                        event: ev,
                        side,
                        price,
                    },
                    books,
                );
            }
        } else if let Some(print) = applied.trade {
            self.sink.on_venue(
                &VenueEvent::Trade {
                    instrument: ev.instrument,
                    exch_ts: ev.exch_ts,
                    recv_ts: fe.recv_ts,
                    print,
                    // ITCH's match number (0 where the source has none, e.g. LOBSTER).
                    match_id: print.match_number,
                },
                books,
            );
        }
        self.sink.on_venue(
            &VenueEvent::Book {
                instrument: ev.instrument,
                exch_ts: ev.exch_ts,
                recv_ts: fe.recv_ts,
                update_id: fe.seq,
                shown: !books.is_crossed(ev.instrument),
            },
            books,
        );
    }
}
