//! LOBSTER -> ITCH operations, with what LOBSTER does not show made explicit.
//!
//! - **Initial book**: the book before the first event (its row with the event undone) becomes
//!   one synthetic `A` per visible level, refs from [`SYNTHETIC_REF_BASE`](super::SYNTHETIC_REF_BASE).
//! - **Events**: 1 -> `A`, 2 -> `X`, 3 -> `D`, 4 -> `E`, 5 -> `P`, 6 -> `Q`, 7 -> `H`, one group of
//!   ITCH ops per message ([`EventSpan`]). A cross (type 6, negative pseudo order id) only prints:
//!   LOBSTER has already written its executions as type 4 rows, so the executions with the
//!   cross's time right before it become non-printable `C`s at the cross price and the volume
//!   is printed once, by the `Q` (as NASDAQ does). A halt row (type 7: price -1 halted, 0
//!   quotation only, 1 trading) becomes an `H`; neither changes the book. Shares an event removes that the model does not hold
//!   on the named order (an order older than the capture, or one changed unseen beyond the
//!   window) come from the level's synthetic orders, then from real orders whose level has been
//!   beyond the window ("hidden", re-attributed, counted); anything else is unapplied.
//! - **Learning**: after event k the model is compared with row k, side by side. A level that
//!   surfaces from beyond row k-1's deepest price (possible only when row k-1 showed all N
//!   levels of that side) is taken from the row ([`ImportReport::learned`]); synthetic `A`s or
//!   cancels are emitted only where the model's quantity differed. A level the model holds
//!   there but the row does not show has left unseen ([`ImportReport::vanished`]). Every other
//!   difference is a mismatch, reported and never corrected.
//! - **Re-anchoring**: a row that cannot be read (a malformed message row, or a malformed book
//!   row that leaves the next event without its "before") would otherwise leave the model
//!   diverged for the rest of the day. The next readable book row re-anchors it instead: every
//!   level inside the row's window is set to the row with synthetic `A`s and cancels
//!   ([`ImportReport::reanchored`]); the transition into that row is not checked (nothing
//!   knowable says what it should be), the ones after it are.

use kestrel_core::{Side, TradingStatus};

use super::error::LobsterError;
use super::message::{CrossKind, LobsterEventType, LobsterMessage};
use super::model::{ImportBook, ModelError, Removal};
use super::ops::{ImportOp, TimedOp};
use super::orderbook::{BookLevel, BookRow};

/// How many level mismatches an [`ImportReport`] keeps in detail.
pub const MISMATCH_DETAIL_LIMIT: usize = 32;

/// One level where a book differs from the LOBSTER book row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelMismatch {
    /// Book row (line) number.
    pub line: usize,
    /// Side.
    pub side: Side,
    /// 1-based level.
    pub level: usize,
    /// The row's level (`None`: empty).
    pub expected: Option<BookLevel>,
    /// The book's level (`None`: empty).
    pub got: Option<BookLevel>,
}

/// An event the model could not apply as LOBSTER describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnappliedEvent {
    /// Message line.
    pub line: usize,
    /// Why.
    pub error: ModelError,
}

/// The ITCH messages of one LOBSTER event: `ops[first..end]` of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpan {
    /// Message / book row line.
    pub line: usize,
    /// First op index.
    pub first: usize,
    /// One past the last op index (`first == end` when the event produced none).
    pub end: usize,
    /// Whether the book after this event is to be compared with the row (both this row and
    /// the previous one parsed, and this is not the first event).
    pub checked: bool,
}

/// Counts and details of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Message rows read (good or not).
    pub messages: usize,
    /// Book rows read (good or not); rows pair with messages by line, so a different count
    /// leaves the unpaired messages unchecked.
    pub book_rows: usize,
    /// Side checks made (two per checked transition).
    pub checks: u64,
    /// Side checks whose levels differed from the row.
    pub mismatched: u64,
    /// Levels taken from the book row because they surfaced from beyond the previous row's
    /// window (whatever the model held there: it cannot know).
    pub learned: u64,
    /// Levels the model held beyond the previous window, inside the new one, that the row does
    /// not show: liquidity that left unseen, removed from the model.
    pub vanished: u64,
    /// Of the learned and vanished levels, those where the model's quantity differed and
    /// synthetic orders (adds or cancels) had to be emitted.
    pub adjusted: u64,
    /// Events whose shares partly came from hidden real orders (their quantity had changed
    /// unseen beyond the window; see [`ImportBook::cover`]).
    pub reattributed_events: u64,
    /// Shares re-attributed that way.
    pub reattributed_shares: u64,
    /// Synthetic orders created for the initial book.
    pub initial_levels: u64,
    /// Book rows that re-anchored the model after a row that could not be read (see the module
    /// docs).
    pub reanchored: u64,
    /// Levels a re-anchoring changed (synthetic adds or cancels were emitted for them).
    pub reanchor_levels: u64,
    /// Cross rows (type 6) written as `Q`.
    pub crosses: u64,
    /// Execution rows (type 4) found to be part of a cross and written as non-printable `C`.
    pub cross_executions: u64,
    /// Halt rows (type 7) written as `H`.
    pub halts: u64,
    /// The first [`MISMATCH_DETAIL_LIMIT`] level mismatches.
    pub mismatches: Vec<LevelMismatch>,
    /// Events the model could not apply.
    pub unapplied: Vec<UnappliedEvent>,
    /// Malformed message rows.
    pub message_errors: Vec<LobsterError>,
    /// Malformed book rows.
    pub book_errors: Vec<LobsterError>,
}

/// The import result: ITCH operations in order, grouped per LOBSTER event, plus the report.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// Book depth N of the file.
    pub depth: usize,
    /// Every ITCH operation, in order; `ops[..preamble_end]` is the initial book.
    pub ops: Vec<TimedOp>,
    /// Ops before the first event (the initial book).
    pub preamble_end: usize,
    /// One span per message row.
    pub events: Vec<EventSpan>,
    /// Expected book rows, indexed like `events` (`None` when the row was malformed).
    pub rows: Vec<Option<BookRow>>,
    /// Counts.
    pub report: ImportReport,
}

/// Whether `price` lies beyond (worse than) `edge` on `side`.
fn worse(side: Side, price: i64, edge: i64) -> bool {
    match side {
        Side::Buy => price < edge,
        Side::Sell => price > edge,
    }
}

/// The book before `msg`, given the row after it: the message undone.
fn undo(msg: &LobsterMessage, row: &BookRow) -> [Vec<BookLevel>; 2] {
    let mut sides = [row.bids.clone(), row.asks.clone()];
    let levels = &mut sides[msg.side.index()];
    let size = u64::from(msg.size);
    match msg.event {
        LobsterEventType::Submit => {
            if let Some(pos) = levels.iter().position(|l| l.price == msg.price) {
                let left = levels[pos].size.saturating_sub(size);
                if left == 0 {
                    levels.remove(pos);
                } else {
                    levels[pos].size = left;
                }
            }
        }
        LobsterEventType::PartialCancel
        | LobsterEventType::Delete
        | LobsterEventType::ExecuteVisible => {
            if let Some(l) = levels.iter_mut().find(|l| l.price == msg.price) {
                l.size += size;
            } else {
                let pos = levels
                    .iter()
                    .position(|l| worse(msg.side, l.price, msg.price))
                    .unwrap_or(levels.len());
                levels.insert(
                    pos,
                    BookLevel {
                        price: msg.price,
                        size,
                    },
                );
            }
        }
        LobsterEventType::ExecuteHidden | LobsterEventType::Cross | LobsterEventType::Halt => {}
    }
    sides
}

/// Removes an event's shares from the order it names. What the model holds of that order
/// goes first (`E`/`X`, or `D` for a delete); shares the model does not hold on it (an order
/// that predates the capture, or one whose quantity LOBSTER changed unseen beyond the window)
/// come from the level's synthetic and hidden orders ([`ImportBook::cover`]). A delete of an
/// order that holds more than LOBSTER says leaves the surplus at the level as a synthetic
/// order. Returns the shares re-attributed from hidden real orders.
fn remove(
    book: &mut ImportBook,
    m: &LobsterMessage,
    how: Removal,
    out: &mut Vec<ImportOp>,
) -> Result<u64, ModelError> {
    let size = u64::from(m.size);
    let held = book.held(m.order_id);
    let price = book.price_of(m.order_id).unwrap_or(m.price);
    let from_order = held.min(size);
    let deficit = size - from_order;
    if deficit > 0 {
        let available = book.coverable(m.side, price, m.order_id);
        if available < deficit {
            return Err(ModelError::NoSyntheticLiquidity {
                price,
                available,
                wanted: deficit,
            });
        }
    }
    if m.event == LobsterEventType::Delete && held > 0 {
        book.delete(m.order_id, out);
        if held > size {
            book.add_synthetic(m.side, price, held - size, out)?;
        }
    } else if from_order > 0 {
        book.reduce(m.order_id, from_order, how, out)?;
    }
    if deficit > 0 {
        return book.cover(m.side, price, deficit, how, m.order_id, out);
    }
    Ok(0)
}

/// Applies one LOBSTER event to the model, emitting its ITCH ops; returns the shares
/// re-attributed from hidden orders. `cross_price` is set for an execution that belongs to the
/// cross following it (see [`cross_prices`]).
fn apply(
    book: &mut ImportBook,
    m: &LobsterMessage,
    cross_price: Option<u32>,
    out: &mut Vec<ImportOp>,
) -> Result<u64, ModelError> {
    let price_u32 = || u32::try_from(m.price).map_err(|_| ModelError::OutOfRange(m.price));
    match m.event {
        LobsterEventType::Submit => book
            .add(m.order_id, m.side, m.price, u64::from(m.size), out)
            .map(|()| 0),
        LobsterEventType::PartialCancel | LobsterEventType::Delete => {
            remove(book, m, Removal::Cancel, out)
        }
        LobsterEventType::ExecuteVisible => {
            let how = cross_price.map_or(Removal::Execute, |price| Removal::CrossExecute { price });
            remove(book, m, how, out)
        }
        LobsterEventType::ExecuteHidden => {
            out.push(ImportOp::HiddenTrade {
                side: m.side,
                price: price_u32()?,
                shares: m.size,
            });
            Ok(0)
        }
        LobsterEventType::Cross => {
            out.push(ImportOp::Cross {
                price: price_u32()?,
                shares: u64::from(m.size),
                cross_type: m.cross.unwrap_or(CrossKind::Intraday).itch_cross_type(),
            });
            Ok(0)
        }
        LobsterEventType::Halt => {
            out.push(ImportOp::Status(match m.price {
                -1 => TradingStatus::Halted,
                0 => TradingStatus::QuotationOnly,
                _ => TradingStatus::Trading,
            }));
            Ok(0)
        }
    }
}

/// For each message, the cross price when it is a visible execution (type 4) that belongs to
/// a cross: LOBSTER writes a cross's executions first, then the cross row (type 6) with the same
/// time, so the executions with the cross's time right before it (other events at that time
/// may sit between them) are the cross's. NASDAQ marks them non-printable; the cross prints the
/// volume once.
fn cross_prices(messages: &[Result<LobsterMessage, LobsterError>]) -> Vec<Option<u32>> {
    let mut out = vec![None; messages.len()];
    for (k, msg) in messages.iter().enumerate() {
        let Ok(cross) = msg else { continue };
        if cross.event != LobsterEventType::Cross {
            continue;
        }
        let Ok(price) = u32::try_from(cross.price) else {
            continue;
        };
        for j in (0..k).rev() {
            match &messages[j] {
                Ok(m) if m.time == cross.time => {
                    if m.event == LobsterEventType::ExecuteVisible {
                        out[j] = Some(price);
                    }
                }
                _ => break,
            }
        }
    }
    out
}

/// Compares the model with `row` on one side after learning the levels that surfaced from
/// beyond `prev`'s window. Returns whether the side matched.
fn learn_and_check(
    book: &mut ImportBook,
    prev: &BookRow,
    row: &BookRow,
    side: Side,
    out: &mut Vec<ImportOp>,
    report: &mut ImportReport,
) -> bool {
    let visible = row.side(side);
    if prev.is_full(side)
        && let Some(frontier) = prev.side(side).last().map(|l| l.price)
    {
        // Prices beyond the old window that the new row shows, or that the model would show
        // inside the new window although the row does not.
        let row_edge = if row.is_full(side) {
            visible.last().map(|l| l.price)
        } else {
            None
        };
        let mut surfaced: Vec<(i64, u64)> = visible
            .iter()
            .filter(|l| worse(side, l.price, frontier))
            .map(|l| (l.price, l.size))
            .collect();
        for p in book.prices(side) {
            let inside_new_window = row_edge.is_none_or(|edge| !worse(side, p, edge));
            if worse(side, p, frontier)
                && inside_new_window
                && !visible.iter().any(|l| l.price == p)
            {
                surfaced.push((p, 0));
            }
        }
        for (price, target) in surfaced {
            if target > 0 {
                report.learned += 1;
            } else {
                report.vanished += 1;
            }
            if book.level_shares(side, price) != target {
                match book.set_level(side, price, target, out) {
                    Ok(()) => report.adjusted += 1,
                    Err(error) => report.unapplied.push(UnappliedEvent {
                        line: row.line,
                        error,
                    }),
                }
            }
        }
    }
    if row.is_full(side)
        && let Some(edge) = visible.last().map(|l| l.price)
    {
        book.mark_hidden_beyond(side, edge);
    }
    let got = book.top(side, row.depth);
    let mut matched = true;
    for level in 0..row.depth {
        let (e, g) = (visible.get(level).copied(), got.get(level).copied());
        if e != g {
            matched = false;
            if report.mismatches.len() < MISMATCH_DETAIL_LIMIT {
                report.mismatches.push(LevelMismatch {
                    line: row.line,
                    side,
                    level: level + 1,
                    expected: e,
                    got: g,
                });
            }
        }
    }
    matched
}

/// Sets every level of the model inside `row`'s window to the row (synthetic adds or cancels),
/// after a row that could not be read; levels beyond a full side's window are left alone.
fn reanchor(
    book: &mut ImportBook,
    row: &BookRow,
    out: &mut Vec<ImportOp>,
    report: &mut ImportReport,
) {
    for side in [Side::Buy, Side::Sell] {
        let visible = row.side(side);
        let edge = if row.is_full(side) {
            visible.last().map(|l| l.price)
        } else {
            None
        };
        let mut targets: Vec<(i64, u64)> = visible.iter().map(|l| (l.price, l.size)).collect();
        for p in book.prices(side) {
            let inside = edge.is_none_or(|e| !worse(side, p, e));
            if inside && !visible.iter().any(|l| l.price == p) {
                targets.push((p, 0));
            }
        }
        for (price, target) in targets {
            if book.level_shares(side, price) == target {
                continue;
            }
            match book.set_level(side, price, target, out) {
                Ok(()) => report.reanchor_levels += 1,
                Err(error) => report.unapplied.push(UnappliedEvent {
                    line: row.line,
                    error,
                }),
            }
        }
        if let Some(edge) = edge {
            book.mark_hidden_beyond(side, edge);
        }
    }
}

/// Turns parsed LOBSTER rows into ITCH operations (see the module docs for the model).
pub fn plan_import(
    messages: Vec<Result<LobsterMessage, LobsterError>>,
    rows: Vec<Result<BookRow, LobsterError>>,
) -> ImportPlan {
    let mut plan = ImportPlan::default();
    plan.report.messages = messages.len();
    plan.report.book_rows = rows.len();
    let mut book = ImportBook::new();
    let mut scratch = Vec::new();
    let mut rows_ok: Vec<Option<BookRow>> = Vec::with_capacity(rows.len());
    for r in rows {
        match r {
            Ok(row) => rows_ok.push(Some(row)),
            Err(e) => {
                plan.report.book_errors.push(e);
                rows_ok.push(None);
            }
        }
    }
    plan.depth = rows_ok
        .iter()
        .flatten()
        .map(|r| r.depth)
        .next()
        .unwrap_or(0);
    let in_cross = cross_prices(&messages);
    let mut started = false;
    let mut prev: Option<&BookRow> = None;
    let mut last_ts = 0u64;
    for (index, msg) in messages.iter().enumerate() {
        let line = index + 1;
        let row = rows_ok.get(index).and_then(Option::as_ref);
        let first = plan.ops.len();
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                plan.report.message_errors.push(*e);
                // The event is unknown, its book row is not: re-anchor on it.
                prev = None;
                if started && let Some(r) = row {
                    scratch.clear();
                    reanchor(&mut book, r, &mut scratch, &mut plan.report);
                    plan.report.reanchored += 1;
                    plan.ops
                        .extend(scratch.iter().map(|&op| TimedOp { ts: last_ts, op }));
                    prev = Some(r);
                }
                plan.events.push(EventSpan {
                    line,
                    first,
                    end: plan.ops.len(),
                    checked: false,
                });
                continue;
            }
        };
        last_ts = msg.time.0;
        // The row before this one could not be read: this one re-anchors the model.
        let anchor = started && prev.is_none();
        if !started && let Some(r) = row {
            // The book before the first event: its row with the event undone, one synthetic
            // order per visible level.
            for side in [Side::Buy, Side::Sell] {
                for level in &undo(msg, r)[side.index()] {
                    scratch.clear();
                    if book
                        .add_synthetic(side, level.price, level.size, &mut scratch)
                        .is_ok()
                    {
                        plan.report.initial_levels += 1;
                    }
                    plan.ops
                        .extend(scratch.iter().map(|&op| TimedOp { ts: msg.time.0, op }));
                }
            }
            plan.preamble_end = plan.ops.len();
            started = true;
        }
        let first = plan.ops.len();
        scratch.clear();
        let cross_price = in_cross.get(index).copied().flatten();
        match msg.event {
            LobsterEventType::Cross => plan.report.crosses += 1,
            LobsterEventType::Halt => plan.report.halts += 1,
            LobsterEventType::ExecuteVisible if cross_price.is_some() => {
                plan.report.cross_executions += 1;
            }
            _ => {}
        }
        match apply(&mut book, msg, cross_price, &mut scratch) {
            Ok(0) => {}
            Ok(shares) => {
                plan.report.reattributed_events += 1;
                plan.report.reattributed_shares += shares;
            }
            Err(error) => plan.report.unapplied.push(UnappliedEvent { line, error }),
        }
        let mut checked = false;
        if anchor && let Some(r) = row {
            reanchor(&mut book, r, &mut scratch, &mut plan.report);
            plan.report.reanchored += 1;
        } else if let (Some(p), Some(r)) = (prev, row) {
            checked = true;
            for side in [Side::Buy, Side::Sell] {
                plan.report.checks += 1;
                if !learn_and_check(&mut book, p, r, side, &mut scratch, &mut plan.report) {
                    plan.report.mismatched += 1;
                }
            }
        }
        plan.ops
            .extend(scratch.iter().map(|&op| TimedOp { ts: msg.time.0, op }));
        plan.events.push(EventSpan {
            line,
            first,
            end: plan.ops.len(),
            checked,
        });
        prev = row;
    }
    plan.rows = rows_ok;
    plan
}

#[cfg(test)]
mod tests {
    use super::super::files::{parse_messages, parse_orderbook};
    use super::super::message::SYNTHETIC_REF_BASE;
    use super::*;

    const MESSAGES: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
    ));
    const BOOK: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
    ));

    #[test]
    fn aapl_sample_reconstructs() {
        let plan = plan_import(parse_messages(MESSAGES), parse_orderbook(BOOK));
        let r = &plan.report;
        eprintln!(
            "vanished={} adjusted={} checks={} mismatched={} learned={} initial={} unapplied={:?} first={:?}",
            r.vanished,
            r.adjusted,
            r.checks,
            r.mismatched,
            r.learned,
            r.initial_levels,
            r.unapplied,
            r.mismatches.first()
        );
        assert_eq!(r.messages, 999);
        assert_eq!(r.checks, 1996);
        assert_eq!(r.mismatched, 0);
        assert_eq!(r.learned, 318);
    }

    fn plan(messages: &str, book: &str) -> ImportPlan {
        plan_import(parse_messages(messages), parse_orderbook(book))
    }

    #[test]
    fn unknown_orders_act_on_the_synthetic_order_of_their_level() {
        // Depth 2. The book before event 1: ask 101 x 30, bid 99 x 20 (from row 1 with the
        // add undone). Event 2 deletes an unknown ask order of 10 at 101; event 3 executes an
        // unknown bid order of 20 at 99.
        let messages = "1.0,1,5,7,100,1\n2.0,3,77,10,101,-1\n3.0,4,78,20,99,1";
        let book = "101,30,100,7,9999999999,0,99,20\n\
                    101,20,100,7,9999999999,0,99,20\n\
                    101,20,100,7,9999999999,0,-9999999999,0";
        let p = plan(messages, book);
        assert_eq!(p.report.initial_levels, 2);
        assert_eq!((p.report.checks, p.report.mismatched), (4, 0));
        let ops: Vec<ImportOp> = p.ops.iter().map(|t| t.op).collect();
        let s0 = SYNTHETIC_REF_BASE;
        assert!(
            matches!(ops[0], ImportOp::Add { order_ref, side: Side::Buy, price: 99, shares: 20 } if order_ref == s0)
        );
        assert!(
            matches!(ops[1], ImportOp::Add { order_ref, side: Side::Sell, price: 101, shares: 30 } if order_ref == s0 + 1)
        );
        assert_eq!(
            ops[2],
            ImportOp::Add {
                order_ref: 5,
                side: Side::Buy,
                price: 100,
                shares: 7
            }
        );
        assert_eq!(
            ops[3],
            ImportOp::Cancel {
                order_ref: s0 + 1,
                shares: 10
            }
        );
        assert_eq!(
            ops[4],
            ImportOp::Execute {
                order_ref: s0,
                shares: 20
            }
        );
        assert_eq!(p.events.len(), 3);
        assert_eq!(
            (p.events[1].first, p.events[1].end, p.events[1].checked),
            (3, 4, true)
        );
        assert_eq!(p.ops[3].ts, 2_000_000_000);
    }

    #[test]
    fn a_surfacing_level_is_learned_and_a_wrong_row_is_a_mismatch() {
        // Depth 1, ask side full: deleting the only visible ask lets 102 x 5 surface (learned).
        // Row 3 then claims the bid changed without a message: a real mismatch.
        let messages = "1.0,1,5,7,99,1\n2.0,3,5,7,99,1\n3.0,1,6,3,101,-1";
        let book = "101,10,99,7\n101,10,-9999999999,0\n101,13,98,1";
        let p = plan(messages, book);
        assert_eq!(p.report.checks, 4);
        assert_eq!(p.report.mismatched, 1);
        assert_eq!(p.report.learned, 0);
        let m = p.report.mismatches[0];
        assert_eq!((m.line, m.side, m.level), (3, Side::Buy, 1));
        assert_eq!(m.expected, Some(BookLevel { price: 98, size: 1 }));
        assert_eq!(m.got, None);

        let messages = "1.0,1,5,7,99,1\n2.0,3,9,10,101,-1";
        let book = "101,10,99,7\n102,5,99,7";
        let p = plan(messages, book);
        assert_eq!(
            (p.report.checks, p.report.mismatched, p.report.learned),
            (2, 0, 1)
        );
        let last = p.ops.last().map(|t| t.op);
        assert!(matches!(
            last,
            Some(ImportOp::Add {
                side: Side::Sell,
                price: 102,
                shares: 5,
                ..
            })
        ));
    }

    #[test]
    fn malformed_rows_are_reported_and_the_rest_flows() {
        let messages = "1.0,1,5,7,99,1\n2.0,x,6,1,98,1\n3.0,1,7,1,97,1\n4.0,3,7,1,97,1";
        let book = "9999999999,0,99,7\nbad\n9999999999,0,99,7\n9999999999,0,99,7";
        let p = plan(messages, book);
        assert_eq!(p.report.message_errors.len(), 1);
        let e = p.report.message_errors[0];
        assert_eq!((e.line, e.column), (2, 2));
        assert_eq!(p.report.book_errors.len(), 1);
        assert_eq!(p.report.book_errors[0].line, 2);
        assert_eq!(p.events.len(), 4);
        // Row 3 follows a bad row: not checked; row 4 is checked again.
        let checked: Vec<bool> = p.events.iter().map(|e| e.checked).collect();
        assert_eq!(checked, vec![false, false, false, true]);
        assert_eq!((p.report.checks, p.report.mismatched), (2, 0));
        assert!(
            p.ops
                .iter()
                .any(|t| matches!(t.op, ImportOp::Add { order_ref: 7, .. }))
        );
    }
}
