//! How each venue message moves an order: the state machine's transitions, positions and the
//! execution reports they produce.

use super::{Fill, Money, NO_PARENT, Oms, OrdStatus, Order, qty};
use crate::ouch::{self, OrderState, ServerMessage};
use kestrel_core::pipeline::Emit;
use kestrel_core::{ExecKind, ExecReport, InstrumentId, Price, Qty, Side, Timestamp};

impl Oms {
    // ---- venue messages ------------------------------------------------------------------

    /// Applies one venue message with sequence number `seq` (0: unsequenced, always applied),
    /// emitting execution reports. Returns whether it was applied (false: a duplicate).
    pub fn on_message<E: Emit<ExecReport>>(
        &mut self,
        seq: u64,
        msg: &ServerMessage,
        now: Timestamp,
        out: &mut E,
    ) -> bool {
        if seq != 0 {
            if seq <= self.last_seq {
                self.stats.duplicate_messages += 1;
                return false;
            }
            if seq > self.last_seq + 1 && self.last_seq != 0 {
                self.stats.sequence_gaps += 1;
            }
            self.last_seq = seq;
        }
        self.stats.messages += 1;
        let vt = Timestamp(msg.timestamp());
        match msg {
            ServerMessage::SystemEvent(_) => {}
            ServerMessage::Accepted(m) => self.on_accepted(m, vt, now, out),
            ServerMessage::Replaced(m) => self.on_replaced(m, vt, now, out),
            ServerMessage::Canceled(m) => {
                self.on_reduced(&m.token, m.decrement_shares, m.reason, vt, now, out);
            }
            ServerMessage::AiqCanceled(m) => {
                self.on_reduced(&m.token, m.decrement_shares, m.reason, vt, now, out);
            }
            ServerMessage::Executed(m) => self.on_executed(m, vt, now, out),
            ServerMessage::BrokenTrade(m) => self.on_broken(m, vt, now, out),
            ServerMessage::Rejected(m) => self.on_rejected(m, vt, now, out),
            ServerMessage::CancelPending(_) => {}
            ServerMessage::CancelReject(m) => {
                if let Some(slot) = self.lookup(&m.token) {
                    self.stats.cancel_rejects += 1;
                    let o = &mut self.orders[slot as usize];
                    if o.status == OrdStatus::PendingCancel {
                        o.status = o.prior;
                    }
                }
            }
            ServerMessage::PriorityUpdate(m) => {
                if let Some(slot) = self.lookup(&m.token) {
                    let o = &mut self.orders[slot as usize];
                    o.price = m.price.to_price();
                    o.order_ref = m.order_ref;
                }
            }
            ServerMessage::OrderModified(m) => {
                if let Some(slot) = self.lookup(&m.token) {
                    let o = self.orders[slot as usize];
                    let decrement = o.leaves.saturating_sub(m.shares);
                    if decrement > 0 {
                        self.on_reduced(
                            &m.token,
                            decrement,
                            ouch::cancel_reason::USER_REQUESTED,
                            vt,
                            now,
                            out,
                        );
                    }
                }
            }
        }
        true
    }

    /// Slot of an open order by token (ours and known).
    fn lookup(&mut self, token: &ouch::Token) -> Option<u32> {
        match self.tokens.parse(token) {
            Some(parts) => {
                let slot = self
                    .by_number
                    .get(parts.number)
                    .filter(|s| self.orders[*s as usize].is_open());
                if slot.is_none() {
                    self.stats.unknown_ours += 1;
                }
                slot
            }
            None => {
                self.stats.foreign_tokens += 1;
                None
            }
        }
    }

    pub(super) fn report(
        o: &Order,
        kind: ExecKind,
        qty_shares: u64,
        price: Price,
        reason: u8,
        vt: Timestamp,
        now: Timestamp,
    ) -> ExecReport {
        ExecReport {
            intent_seq: o.intent_seq,
            order: o.id,
            instrument: o.instrument,
            side: o.side,
            kind,
            reason,
            qty: qty(qty_shares),
            price,
            leaves: qty(u64::from(o.leaves)),
            venue_time: vt,
            at: now,
        }
    }

    fn on_accepted<E: Emit<ExecReport>>(
        &mut self,
        m: &ouch::Accepted,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let slot = match self.lookup(&m.token) {
            Some(s) => s,
            None => match self.adopt(
                &m.token,
                m.side.side(),
                m.shares,
                m.price.to_price(),
                m.time_in_force,
            ) {
                Some(s) => s,
                None => return,
            },
        };
        let o = &mut self.orders[slot as usize];
        if o.acked {
            // Already accepted (a resent Enter Order the venue answered again): nothing new.
            self.stats.duplicate_messages += 1;
            return;
        }
        o.acked = true;
        o.order_ref = m.order_ref;
        o.price = m.price.to_price();
        let accepted = m.shares.saturating_sub(o.filled);
        let trimmed = o.leaves.saturating_sub(accepted);
        o.leaves = o.leaves.min(accepted);
        o.shares = m.shares;
        let working = if o.filled > 0 {
            OrdStatus::PartiallyFilled
        } else {
            OrdStatus::Live
        };
        if o.status == OrdStatus::PendingNew {
            o.status = working;
        } else if o.prior == OrdStatus::PendingNew {
            // A cancel or replace went out before the acceptance came back.
            o.prior = working;
        }
        let o = *o;
        out.emit(Self::report(
            &o,
            ExecKind::Accepted,
            u64::from(o.shares),
            o.price,
            0,
            vt,
            now,
        ));
        if trimmed > 0 {
            self.working_add(o.instrument, o.side, -i64::from(trimmed));
            out.emit(Self::report(
                &o,
                ExecKind::Done,
                u64::from(trimmed),
                o.price,
                0,
                vt,
                now,
            ));
        }
        if m.order_state == OrderState::Dead {
            self.finish(
                slot,
                OrdStatus::Cancelled,
                ouch::cancel_reason::IMMEDIATE_OR_CANCEL,
                vt,
                now,
                out,
            );
        }
    }

    /// Creates the record of an order of ours the OMS did not know (lost by a killed process
    /// before its journal caught up), from what the venue says about it.
    fn adopt(
        &mut self,
        token: &ouch::Token,
        side: Side,
        shares: u32,
        price: Price,
        tif: u32,
    ) -> Option<u32> {
        let parts = self.tokens.parse(token)?;
        if parts.instrument.index() >= self.symbols.len() || parts.side != side {
            return None;
        }
        let slot = self.free.pop()?;
        if !self.by_number.insert(parts.number, slot) {
            self.free.push(slot);
            return None;
        }
        self.tokens.skip_past(parts.number);
        self.orders[slot as usize] = Order {
            id: parts.number,
            number: parts.number,
            intent_seq: 0,
            parent: NO_PARENT,
            instrument: parts.instrument,
            side,
            status: OrdStatus::PendingNew,
            prior: OrdStatus::PendingNew,
            price,
            shares,
            filled: 0,
            leaves: shares,
            tif,
            order_ref: 0,
            sent_at: Timestamp::ZERO,
            arrival_mid: Price::ZERO,
            replace: None,
            acked: false,
            cancel_to: 0,
        };
        self.open_insert(parts.instrument, side, slot);
        self.working_add(parts.instrument, side, i64::from(shares));
        Some(slot)
    }

    fn on_executed<E: Emit<ExecReport>>(
        &mut self,
        m: &ouch::Executed,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let price = m.execution_price.to_price();
        let fee = self.fees.fee(m.executed_shares, m.liquidity_flag);
        match self.lookup(&m.token) {
            Some(slot) => {
                let o = self.orders[slot as usize];
                if self.fills.seen(m.match_number, o.id) {
                    self.stats.duplicate_fills += 1;
                    return;
                }
                let done = m.executed_shares.min(o.leaves);
                {
                    let o = &mut self.orders[slot as usize];
                    o.filled = o.filled.saturating_add(m.executed_shares);
                    o.leaves -= done;
                    if o.leaves > 0 {
                        match o.status {
                            OrdStatus::PendingCancel | OrdStatus::PendingReplace => {
                                o.prior = OrdStatus::PartiallyFilled;
                            }
                            _ => o.status = OrdStatus::PartiallyFilled,
                        }
                    }
                }
                self.working_add(o.instrument, o.side, -i64::from(done));
                self.apply_fill(o.id, o.instrument, o.side, m, price, fee, vt, now);
                let o = self.orders[slot as usize];
                out.emit(Self::report(
                    &o,
                    ExecKind::Fill,
                    u64::from(m.executed_shares),
                    price,
                    m.liquidity_flag,
                    vt,
                    now,
                ));
                if o.leaves == 0 {
                    self.finish(slot, OrdStatus::Filled, 0, vt, now, out);
                }
            }
            None => {
                // Ours but unknown: the token says which instrument and side.
                let Some(parts) = self.tokens.parse(&m.token) else {
                    return;
                };
                if parts.instrument.index() >= self.symbols.len()
                    || self.fills.seen(m.match_number, parts.number)
                {
                    self.stats.duplicate_fills +=
                        u64::from(parts.instrument.index() < self.symbols.len());
                    return;
                }
                self.tokens.skip_past(parts.number);
                self.stats.reconciled_fills += 1;
                self.apply_fill(
                    parts.number,
                    parts.instrument,
                    parts.side,
                    m,
                    price,
                    fee,
                    vt,
                    now,
                );
                let ghost = Order {
                    id: parts.number,
                    number: parts.number,
                    instrument: parts.instrument,
                    side: parts.side,
                    ..Order::default()
                };
                out.emit(Self::report(
                    &ghost,
                    ExecKind::Fill,
                    u64::from(m.executed_shares),
                    price,
                    m.liquidity_flag,
                    vt,
                    now,
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_fill(
        &mut self,
        order: u64,
        instrument: InstrumentId,
        side: Side,
        m: &ouch::Executed,
        price: Price,
        fee: Money,
        vt: Timestamp,
        now: Timestamp,
    ) {
        if let Some(p) = self.positions.get_mut(instrument.index()) {
            p.apply_fill(side, m.executed_shares, price, fee);
        }
        self.fills.push(Fill {
            match_number: m.match_number,
            order,
            instrument,
            side,
            shares: m.executed_shares,
            price,
            fee,
            liquidity: m.liquidity_flag,
            venue_time: vt.nanos(),
            at: now,
            broken: false,
        });
        self.stats.fills += 1;
    }

    fn on_reduced<E: Emit<ExecReport>>(
        &mut self,
        token: &ouch::Token,
        decrement: u32,
        reason: u8,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let Some(slot) = self.lookup(token) else {
            return;
        };
        let o = &mut self.orders[slot as usize];
        let dec = decrement.min(o.leaves);
        o.leaves -= dec;
        if o.status == OrdStatus::PendingCancel && o.leaves > 0 {
            o.status = o.prior;
        }
        let o = *o;
        self.stats.cancels += 1;
        self.working_add(o.instrument, o.side, -i64::from(dec));
        out.emit(Self::report(
            &o,
            ExecKind::Done,
            u64::from(dec),
            o.price,
            reason,
            vt,
            now,
        ));
        if o.leaves == 0 {
            self.retire_with(slot, OrdStatus::Cancelled);
        }
    }

    fn on_rejected<E: Emit<ExecReport>>(
        &mut self,
        m: &ouch::Rejected,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let Some(slot) = self.lookup(&m.token) else {
            return;
        };
        self.stats.rejects += 1;
        let o = self.orders[slot as usize];
        // The rejected token may be a replacement: the original order stays as it was.
        if let (OrdStatus::PendingReplace, Some(r)) = (o.status, o.replace)
            && self
                .tokens
                .parse(&m.token)
                .is_some_and(|p| p.number == r.number)
        {
            self.by_number.remove(r.number);
            let ord = &mut self.orders[slot as usize];
            ord.replace = None;
            ord.status = ord.prior;
            return;
        }
        if o.acked {
            // A Rejected for an order the venue accepted can only answer a stale resend (a
            // replace already applied before a reconnect): the order stands.
            self.stats.stale_rejects += 1;
            return;
        }
        let leaves = o.leaves;
        self.working_add(o.instrument, o.side, -i64::from(leaves));
        out.emit(Self::report(
            &o,
            ExecKind::Rejected,
            u64::from(leaves),
            o.price,
            m.reason,
            vt,
            now,
        ));
        self.orders[slot as usize].leaves = 0;
        self.retire_with(slot, OrdStatus::Rejected);
    }

    fn on_replaced<E: Emit<ExecReport>>(
        &mut self,
        m: &ouch::Replaced,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let Some(prev) = self.tokens.parse(&m.previous_token) else {
            self.stats.foreign_tokens += 1;
            return;
        };
        let Some(new) = self.tokens.parse(&m.token) else {
            self.stats.foreign_tokens += 1;
            return;
        };
        let Some(slot) = self
            .by_number
            .get(prev.number)
            .or_else(|| self.by_number.get(new.number))
        else {
            self.stats.unknown_ours += 1;
            return;
        };
        self.stats.replaces += 1;
        self.by_number.remove(prev.number);
        self.by_number.insert(new.number, slot);
        let o = &mut self.orders[slot as usize];
        let old_leaves = o.leaves;
        o.number = new.number;
        o.price = m.price.to_price();
        o.leaves = m.shares;
        o.shares = o.filled.saturating_add(m.shares);
        o.order_ref = m.order_ref;
        o.replace = None;
        o.status = if o.filled > 0 {
            OrdStatus::PartiallyFilled
        } else {
            OrdStatus::Live
        };
        let o = *o;
        self.working_add(
            o.instrument,
            o.side,
            i64::from(m.shares) - i64::from(old_leaves),
        );
        let mut r = Self::report(&o, ExecKind::Replaced, 0, o.price, 0, vt, now);
        // `qty`: working shares released by the replace (negative when it grew).
        r.qty = Qty::from_raw((i64::from(old_leaves) - i64::from(m.shares)) * 100_000_000);
        out.emit(r);
        if m.order_state == OrderState::Dead || o.leaves == 0 {
            self.finish(slot, OrdStatus::Cancelled, 0, vt, now, out);
        }
    }

    fn on_broken<E: Emit<ExecReport>>(
        &mut self,
        m: &ouch::BrokenTrade,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let Some(f) = self.fills.break_fill(m.match_number) else {
            return;
        };
        self.stats.broken += 1;
        self.rebuild_position(f.instrument);
        let o = Order {
            id: f.order,
            instrument: f.instrument,
            side: f.side,
            ..Order::default()
        };
        out.emit(Self::report(
            &o,
            ExecKind::Broken,
            u64::from(f.shares),
            f.price,
            m.reason,
            vt,
            now,
        ));
    }

    /// Recomputes one instrument's position from the fill log, leaving out broken fills.
    fn rebuild_position(&mut self, instrument: InstrumentId) {
        let Some(p) = self.positions.get_mut(instrument.index()) else {
            return;
        };
        let mark = p.view().mark;
        p.reset();
        for f in self
            .fills
            .all()
            .iter()
            .filter(|f| f.instrument == instrument && !f.broken)
        {
            p.apply_fill(f.side, f.shares, f.price, f.fee);
        }
        p.set_mark(mark);
    }
}
